// A team's page: join with the seat's own link (or the room code and the facilitator's approval),
// then the team's own side of its table. The device's token lives in a cookie the page cannot
// read: the same device returns to its seat, whatever tab or QR scan it comes back through.
"use strict";

const CODE = "procsim.code";
let code = null;
let seatKey = null;
let lobby = null;
let version = null;
let view = null;
let formKey = "";
let countdown = null;
let polling = false;

function only(...ids) {
  for (const id of ["join-code", "join-link", "join-seat", "waiting", "game"]) show($(id), ids.includes(id));
}

async function lookUp(typed) {
  const path = "/api/session/" + encodeURIComponent(typed) + (seatKey ? "?seat=" + encodeURIComponent(seatKey) : "");
  lobby = await api(path);
  code = lobby.code;
  localStorage.setItem(CODE, code);
  history.replaceState(null, "", location.pathname + "?code=" + encodeURIComponent(code)); // no seat secret in the address bar
  if (lobby.me && (lobby.me.status === "seated" || lobby.me.status === "waiting")) return startGame();
  if (lobby.seat) return showLink(lobby.seat);
  showTables();
}

function showLink(seat) {
  const side = seat.role === "procurement" ? "the procurement team (the buyer)" : "the supplier team";
  $("link-seat").textContent = seat.bot ? "A bot plays this seat now: ask the facilitator to give it to your team."
    : seat.team ? "This link seats you at " + seat.table_name + " with " + side + " '" + seat.team + "'."
      : "This link seats you at " + seat.table_name + " as " + side + ". Your team names itself:";
  show($("link-team-box"), !seat.team);
  $("link-join").disabled = seat.bot;
  $("link-team").required = !seat.team;
  only("join-link");
}

function showTables() {
  const box = $("tables");
  box.replaceChildren(el("legend", { text: "Table" }));
  for (const t of lobby.tables) {
    const seats = "procurement: " + (t.procurement || "free") + ", supplier: " + (t.supplier || "free");
    box.append(el("label", { class: "choice" },
      el("input", { type: "radio", name: "table", value: String(t.number), required: true }),
      el("b", { text: t.name }), " (" + seats + ")"));
  }
  only("join-seat");
  seatNote();
}

function chosen(name) {
  const input = document.querySelector("input[name=" + name + "]:checked");
  return input ? input.value : null;
}

function seatNote() {
  const table = chosen("table"), role = chosen("role");
  const seat = lobby && table ? lobby.tables[Number(table) - 1] : null;
  const team = seat && role ? seat[role] : null;
  if (team) message($("seat-note"), "This seat is taken by team " + team + ": once approved you join that team.", "info");
  else show($("seat-note"), false);
  show($("team-box"), !team);
}

async function join(body) {
  message($("message"), "");
  try {
    await api("/api/join", { method: "POST", body: Object.assign({ code: code }, body) });
    seatKey = null;
    startGame();
  } catch (err) {
    message($("message"), err.message);
    if (err.status === 404) backToCode();
  }
}

function backToCode() {
  localStorage.removeItem(CODE);
  code = null;
  only("join-code");
}

function startGame() {
  version = null;
  formKey = "";
  if (!polling) { polling = true; poll(); }
}

async function poll() {
  try {
    const data = await api("/api/me?code=" + encodeURIComponent(code) + (version === null ? "" : "&since=" + version));
    online();
    if (data.waiting) {
      const w = data.waiting;
      $("waiting-text").textContent = "Request " + w.request + ": " + w.table + ", " + w.role + (w.team ? ", team " + w.team : "") +
        ". The facilitator approves it on the console; this page goes on by itself.";
      only("waiting");
    } else {
      only("game");
      if (data.view) {
        version = data.version;
        view = data.view;
        render();
      }
      countdown.set(data.remaining, view && view.state === "paused");
    }
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      polling = false;
      message($("message"), err.message);
      try { await lookUp(code); } catch (again) { backToCode(); }
      return;
    }
    message($("message"), err.message);
  }
  setTimeout(poll, 1000);
}

function statusText(v) {
  const other = v.role === "procurement" ? "the supplier" : "procurement";
  switch (v.state) {
    case "lobby": return v.practiced ? "The practice round is over. Waiting for the facilitator to start the game."
      : "Waiting for the facilitator to start the game. Read your briefing below.";
    case "paused": return "The facilitator has paused the game.";
    case "finished": return "All rounds are played. Waiting for the facilitator to reveal the debrief.";
    case "debrief": return "The debrief: every table against the balanced policy.";
  }
  const round = v.practice ? "Practice round (it does not count)" : "Round " + v.round;
  if (v.table_done) return round + ": your table has played. Waiting for the other tables.";
  if (!v.my_move) {
    if (v.role === "supplier" && !v.other_submitted) return round + ": waiting for procurement's demand.";
    return round + ": your move.";
  }
  return round + ": your move is in; waiting for " + other + ".";
}

function render() {
  const v = view;
  const round = v.practice ? "practice round" : "round " + Math.max(v.round, 1) + " of " + v.rounds;
  $("who").textContent = v.table + " · " + (v.role === "procurement" ? "Procurement" : "Supplier") +
    " · team " + v.team + (v.other_team ? " (against " + v.other_team + ")" : "") + " · " + round;
  $("status").textContent = statusText(v);
  message($("message"), "");
  show($("briefing-box"), Boolean(v.briefing));
  if (v.briefing) {
    $("briefing-title").textContent = "Your briefing: the " + (v.role === "procurement" ? "procurement" : "supplier") + " team";
    $("briefing").replaceChildren(...v.briefing.map((line) => el("li", { text: line })));
    $("practice-result").replaceChildren(...(v.practice_result ? [el("h3", { text: "Your practice round" }),
      dataTable(v.practice_result, "history")] : []));
  }
  renderMove(v);
  const rows = v.figures.map(([label, value]) => el("tr", {}, el("td", { text: label }), el("td", { text: value })));
  $("figures").replaceChildren(el("tbody", {}, ...rows));
  show($("outlook-box"), Boolean(v.outlook));
  if (v.outlook) $("outlook").replaceChildren(dataTable(v.outlook));
  charts($("charts"), v.charts);
  $("history").replaceChildren(v.history.rows.length ? dataTable(v.history, "history") : el("p", { text: "No round played yet." }));
  show($("debrief-box"), Boolean(v.debrief));
  if (v.debrief) {
    renderDebrief($("debrief"), v.debrief, v.question);
    const own = v.debrief.tables[v.table_number - 1];
    $("own-rounds").replaceChildren(dataTable(own.rounds, "own-rounds"));
  }
}

function renderMove(v) {
  const open = v.state === "running" && !v.table_done;
  const key = [v.state, v.round, v.practice, v.table_done, JSON.stringify(v.my_move), v.demand].join("|");
  show($("move-box"), open || v.state === "paused");
  if (key === formKey) return; // keep what the team is typing
  formKey = key;
  const demandForm = $("demand-form"), answerForm = $("answer-form"), done = $("move-done");
  show(demandForm, false);
  show(answerForm, false);
  show(done, false);
  $("move-title").textContent = v.practice ? "Practice round (it does not count)" : "Round " + v.round + " of " + v.rounds;
  if (!open) return;
  if (v.role === "procurement") {
    if (v.my_move) {
      message(done, "Your demand is in: " + pct(v.my_move.demand) + " in total. " +
        (v.other_submitted ? "" : "Waiting for the supplier's answer."), "info");
    } else {
      $("demand-context").textContent = v.sentence;
      $("demand").max = String(v.max_demand);
      $("demand").value = "";
      $("demand").placeholder = "e.g. " + v.in_force.toFixed(1);
      $("demand-label").textContent = "Total discount we demand (% of list price, 0 to " + v.max_demand + ")";
      show(demandForm, true);
    }
    return;
  }
  if (v.my_move) {
    const label = v.answers.find((a) => a.value === v.my_move.answer).label;
    message(done, "Your answer is in: " + label + (v.my_move.answer === "hold" ? "" : ", " + pct(v.my_move.points)) + ".", "info");
    return;
  }
  if (v.demand === null || v.demand === undefined) {
    message(done, "Waiting for procurement's demand: you will see it here as soon as it is in.", "info");
    return;
  }
  $("demand-seen").textContent = v.sentence;
  const box = $("answers");
  box.replaceChildren();
  for (const a of v.answers) {
    box.append(el("label", { class: "choice" + (a.enabled ? "" : " disabled") },
      el("input", { type: "radio", name: "answer", value: a.value, required: true, disabled: !a.enabled }), a.label));
  }
  $("points").max = String(v.gap_typed);
  $("points").value = "";
  $("points-label").textContent = "Points we concede this round (% of list price, 0 to " + v.gap_typed.toFixed(1) + ")";
  show(answerForm, true);
  pointsBox();
}

function pointsBox() {
  const answer = chosen("answer");
  const conceding = answer !== null && answer !== "hold";
  show($("points-box"), conceding);
  $("points").required = conceding;
}

async function submit(body) {
  message($("message"), "");
  try {
    const data = await api("/api/move?code=" + encodeURIComponent(code), { method: "POST", body: body });
    version = data.version;
    view = data.view;
    render();
  } catch (err) {
    message($("message"), err.message);
  }
}

async function teammate() {
  if (!$("teammate").open) return;
  try {
    const data = await api("/api/me/qr?code=" + encodeURIComponent(code));
    $("seat-qr").innerHTML = data.qr; // segno's SVG, made by the server from the seat's link
    $("seat-link").textContent = data.link;
  } catch (err) {
    message($("message"), err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  countdown = new Countdown($("timer"));
  const params = new URLSearchParams(location.search);
  seatKey = params.get("seat");
  const start = params.get("code") || localStorage.getItem(CODE);
  $("code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    message($("message"), "");
    try { await lookUp($("code").value); } catch (err) { message($("message"), err.message); }
  });
  $("link-form").addEventListener("submit", (event) => {
    event.preventDefault();
    join({ seat: seatKey, team: $("link-team").value });
  });
  $("seat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    join({ table: chosen("table"), role: chosen("role"), team: $("team").value });
  });
  $("seat-form").addEventListener("change", seatNote);
  $("other-code").addEventListener("click", backToCode);
  $("answers").addEventListener("change", pointsBox);
  $("demand-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submit({ demand: Number($("demand").value) / 100 });
  });
  $("answer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const answer = chosen("answer");
    submit({ answer: answer, points: answer === "hold" ? 0 : Number($("points").value) / 100 });
  });
  $("teammate").addEventListener("toggle", teammate);
  $("handout").addEventListener("click", async () => {
    try { await download("/api/handout?code=" + encodeURIComponent(code), {}, "debrief.html"); } catch (err) { message($("message"), err.message); }
  });
  if (start) {
    $("code").value = start;
    lookUp(start).catch((err) => { message($("message"), err.message); only("join-code"); });
  } else {
    only("join-code");
  }
});
