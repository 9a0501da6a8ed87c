// A team's page: join with the session code, then the team's own side of its table.
"use strict";

const STORE = "procsim.player";
let me = JSON.parse(sessionStorage.getItem(STORE) || "null"); // {token, code}
let lobby = null;
let version = null;
let view = null;
let formKey = "";
let countdown = null;

function token() { return { "X-Player-Token": me.token }; }

async function lookUp(code) {
  lobby = await api("/api/session/" + encodeURIComponent(code));
  const box = $("tables");
  box.replaceChildren(el("legend", { text: "Table" }));
  for (const t of lobby.tables) {
    const seats = "procurement: " + (t.procurement || "free") + ", supplier: " + (t.supplier || "free");
    box.append(el("label", { class: "choice" },
      el("input", { type: "radio", name: "table", value: String(t.number), required: true }),
      el("b", { text: t.name }), " (" + seats + ")"));
  }
  show($("join-code"), false);
  show($("join-seat"), true);
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
  if (team) message($("seat-note"), "This seat is taken by team " + team + ": you will join that team.", "info");
  else show($("seat-note"), false);
  show($("team-box"), !team);
}

async function join(event) {
  event.preventDefault();
  message($("message"), "");
  try {
    const result = await api("/api/join", {
      method: "POST",
      body: { code: lobby.code, table: chosen("table"), role: chosen("role"), team: $("team").value },
    });
    me = { token: result.token, code: lobby.code };
    sessionStorage.setItem(STORE, JSON.stringify(me));
    startGame();
  } catch (err) {
    message($("message"), err.message);
    if (err.status === 404) backToCode();
  }
}

function backToCode() {
  show($("join-seat"), false);
  show($("join-code"), true);
}

function startGame() {
  show($("join-code"), false);
  show($("join-seat"), false);
  show($("game"), true);
  poll();
}

async function poll() {
  try {
    const data = await api("/api/me" + (version === null ? "" : "?since=" + version), { headers: token() });
    if (data.view) {
      version = data.version;
      view = data.view;
      render();
    }
    countdown.set(data.remaining, view && view.state === "paused");
  } catch (err) {
    if (err.status === 401) {
      sessionStorage.removeItem(STORE);
      me = null;
      show($("game"), false);
      show($("join-code"), true);
      message($("message"), err.message);
      return;
    }
    message($("message"), err.message);
  }
  setTimeout(poll, 1000);
}

function statusText(v) {
  const other = v.role === "procurement" ? "the supplier" : "procurement";
  switch (v.state) {
    case "lobby": return "Waiting for the facilitator to start the game.";
    case "paused": return "The facilitator has paused the game.";
    case "finished": return "All rounds are played. Waiting for the facilitator to reveal the debrief.";
    case "debrief": return "The debrief: every table against the balanced policy.";
  }
  if (v.table_done) return "Your table has played round " + v.round + ". Waiting for the other tables.";
  if (!v.my_move) {
    if (v.role === "supplier" && !v.other_submitted) return "Round " + v.round + ": waiting for procurement's demand.";
    return "Round " + v.round + ": your move.";
  }
  return "Round " + v.round + ": your move is in; waiting for " + other + ".";
}

function render() {
  const v = view;
  $("who").textContent = v.table + " · " + (v.role === "procurement" ? "Procurement" : "Supplier") +
    " · team " + v.team + (v.other_team ? " (against " + v.other_team + ")" : "") +
    " · round " + Math.max(v.round, 1) + " of " + v.rounds;
  $("status").textContent = statusText(v);
  message($("message"), "");
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
  const key = [v.state, v.round, v.table_done, JSON.stringify(v.my_move), v.demand].join("|");
  show($("move-box"), open || v.state === "paused");
  if (key === formKey) return; // keep what the team is typing
  formKey = key;
  const demandForm = $("demand-form"), answerForm = $("answer-form"), done = $("move-done");
  show(demandForm, false);
  show(answerForm, false);
  show(done, false);
  $("move-title").textContent = "Round " + v.round + " of " + v.rounds;
  if (!open) return;
  if (v.role === "procurement") {
    if (v.my_move) {
      message(done, "Your demand is in: " + pct(v.my_move.demand) + " in total. " +
        (v.other_submitted ? "" : "Waiting for the supplier's answer."), "info");
    } else {
      $("demand-context").textContent = "Your figures are below. What total discount do you demand for the next contract year?";
      $("demand").max = String(100 * v.max_demand);
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
  $("demand-seen").textContent = "Procurement demands " + pct(v.demand) + " in total; " + pct(v.in_force) +
    " is in force, so you can concede up to " + pct(v.gap) + " this round.";
  const box = $("answers");
  box.replaceChildren();
  v.answers.forEach((a, i) => box.append(el("label", { class: "choice" },
    el("input", { type: "radio", name: "answer", value: a.value, checked: i === 0 }), a.label)));
  $("points").max = String(100 * v.gap);
  $("points").value = String(Math.min(2, 100 * v.gap));
  $("points-label").textContent = "Points we concede this round (% of list price, at most " + pct(v.gap) + ")";
  show(answerForm, true);
  pointsBox();
}

function pointsBox() { show($("points-box"), chosen("answer") !== "hold"); }

async function submit(body) {
  message($("message"), "");
  try {
    const data = await api("/api/move", { method: "POST", body: body, headers: token() });
    version = data.version;
    view = data.view;
    render();
  } catch (err) {
    message($("message"), err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  countdown = new Countdown($("timer"));
  const code = new URLSearchParams(location.search).get("code");
  if (code) $("code").value = code;
  $("code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    message($("message"), "");
    try { await lookUp($("code").value); } catch (err) { message($("message"), err.message); }
  });
  $("seat-form").addEventListener("submit", join);
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
  $("handout").addEventListener("click", async () => {
    try { await download("/api/handout", token(), "debrief.html"); } catch (err) { message($("message"), err.message); }
  });
  if (me) startGame();
});
