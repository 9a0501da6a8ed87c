// The facilitator's console: the room's code and QR, seats and approvals, the controls (with a
// confirmation and an undo for the ones that cannot be taken back lightly), the projector view
// during rounds, the debrief, the settings and every saved room. Needs the key printed by
// `procsim game`.
"use strict";

const KEY = "procsim.facilitator";
let key = sessionStorage.getItem(KEY);
let version = null;
let view = null;
let room = null;
let countdown = null;
let roomScreen = false;
let pending = null; // the action waiting for confirmation

function auth() { return { "X-Facilitator-Key": key }; }

async function loadRoom() {
  room = await api("/api/facilitator/room", { headers: auth() });
  $("code").textContent = room.code;
  $("join-url").textContent = room.join_url;
  $("qr").innerHTML = room.qr; // segno's SVG, made by the server from the join address
  const select = $("scenario");
  select.replaceChildren(...room.scenarios.map((s) => el("option", { value: s, text: s })));
}

async function open() {
  try {
    await loadRoom();
  } catch (err) {
    if (err.status === 403) {
      sessionStorage.removeItem(KEY);
      key = null;
      show($("login"), true);
    }
    message($("message"), err.message);
    return;
  }
  show($("login"), false);
  show($("console"), true);
  loadRooms();
  poll();
}

async function poll() {
  try {
    const since = version === null || !view ? "" : "?since=" + version + "&code=" + encodeURIComponent(view.code);
    const data = await api("/api/facilitator" + since, { headers: auth() });
    online();
    await accept(data);
  } catch (err) {
    message($("message"), err.message);
  }
  setTimeout(poll, 1000);
}

async function accept(data) {
  message($("problem"), data.problem || "");
  if (data.view) {
    const fresh = !view || data.view.code !== view.code;
    version = data.version;
    view = data.view;
    if (fresh) {
      await loadRoom();
      fillSettings();
      shownQuestion = null;
      if ($("seat-links").open) loadSeats();
    }
    render();
  }
  countdown.set(data.remaining, view && view.state === "paused");
}

const STATES = {
  lobby: "Lobby: teams are joining",
  running: "Running",
  paused: "Paused",
  finished: "All rounds played",
  debrief: "Debrief",
};

function render() {
  const v = view;
  const round = v.practice ? " · practice round" : v.round ? " · round " + v.round + " of " + v.rounds : "";
  $("state").textContent = STATES[v.state] + round;
  $("devices").textContent = v.devices + " device(s) seated" + (v.waiting.length ? ", " + v.waiting.length + " waiting" : "");
  const inLobby = v.state === "lobby" && !v.practice;
  $("practice").disabled = !inLobby;
  $("start").disabled = !inLobby;
  $("pause").disabled = v.state !== "running";
  $("resume").disabled = v.state !== "paused";
  $("end-round").disabled = !(v.state === "running" || v.state === "paused");
  $("reveal").disabled = v.practice || v.state === "lobby" || v.state === "debrief" || !v.tables.some((t) => t.rounds_played > 0);
  $("apply").disabled = !inLobby; // a running game keeps its settings; a new session takes them
  show($("undo-box"), Boolean(v.undo));
  $("undo-text").textContent = v.undo ? "Done: " + v.undo + "." : "";
  $("undo").textContent = v.undo ? "Undo: " + v.undo : "Undo";
  renderProjector(v);
  renderWaiting(v);
  renderTables(v);
  $("leaderboard").replaceChildren(dataTable(v.leaderboard, "leaderboard"));
  // at the debrief the ranking replaces the console; the code and QR make room for the charts
  for (const id of ["room-box", "tables-box", "board-box"]) $(id).classList.toggle("debrief-hides", Boolean(v.debrief));
  show($("debrief-box"), Boolean(v.debrief));
  if (v.debrief) {
    renderDebrief($("debrief"), v.debrief, v.question);
    $("previous-question").disabled = v.question <= 0;
    $("next-question").disabled = v.question >= v.debrief.questions.length - 1;
    const parts = [el("h3", { text: "Every table's rounds" })];
    for (const t of v.debrief.tables) {
      parts.push(el("h4", { text: t.name + " (procurement: " + (t.teams.procurement || "-") + ", supplier: " + (t.teams.supplier || "-") + ")" }));
      parts.push(dataTable(t.rounds, "table-rounds"));
    }
    $("tables-rounds").replaceChildren(...parts);
  }
  applyRoomScreen();
}

function renderProjector(v) {
  const during = v.state === "running" || v.state === "paused";
  show($("projector"), during || roomScreen);
  const total = v.tables.length;
  $("tables-in").textContent = during ? v.tables_in + " of " + total + " tables in · " + (total - v.tables_in) + " waiting" : "";
  $("chips").replaceChildren(...(during ? v.tables.map((t) =>
    el("span", { class: "chip " + (t.done ? "in" : "waiting"), text: t.name + (t.done ? " ✓" : " …") })) : []));
  $("story").textContent = v.story;
}

function renderWaiting(v) {
  show($("waiting-box"), v.waiting.length > 0);
  $("waiting").replaceChildren(...v.waiting.map((w) => el("div", { class: "request" },
    el("span", { text: "Request " + w.request + ": " + w.table_name + ", " + w.role + ", " +
      (w.joins_team ? "joins team " : "names its team ") + w.team }),
    el("button", { type: "button", text: "Approve", onclick: () => action("approve", { request: w.request }) }),
    el("button", { type: "button", class: "secondary", text: "Refuse", onclick: () => action("refuse", { request: w.request }) }))));
}

function mark(done) { return el("span", { class: done ? "tick" : "wait", text: done ? "✓ in" : "…" }); }

function seatCell(v, t, role) {
  const seat = t.seats[role];
  const team = t[role];
  const who = seat.bot ? " (bot)" : team ? " (" + seat.devices + " device" + (seat.devices === 1 ? "" : "s") + ")" : "";
  const cell = el("td", { class: "name", "data-label": role === "procurement" ? "Procurement team" : "Supplier team" },
    el("span", { text: (team || "(free)") + who }));
  if (team || seat.bot) {
    const side = role === "procurement" ? "procurement" : "supplier";
    cell.append(" ", el("button", {
      type: "button", class: "small secondary", text: "Reassign", "data-seat": t.number + "-" + role,
      onclick: () => confirmThen("Reassign " + t.name + "'s " + side + " seat? Its devices" + (seat.bot ? " (a bot)" : "") +
        " leave it and its QR code changes; the next device with the new code takes it.",
        () => action("reassign", { table: t.number, role: role })),
    }));
  }
  return cell;
}

function renderTables(v) {
  const headers = ["Table", "Procurement team", "Demand", "Supplier team", "Answer", "Rounds played",
    "Discount", "Capability", "Procurement value", "Supplier value"];
  const rows = v.tables.map((t) => el("tr", { "data-table": String(t.number) },
    el("td", { text: t.name, "data-label": "Table" }),
    seatCell(v, t, "procurement"),
    el("td", { "data-label": "Demand" }, mark(t.demand_in)),
    seatCell(v, t, "supplier"),
    el("td", { "data-label": "Answer" }, mark(t.answer_in)),
    el("td", { class: "num", text: String(t.rounds_played), "data-label": headers[5] }),
    el("td", { class: "num", text: t.discount, "data-label": headers[6] }),
    el("td", { class: "num", text: t.capability, "data-label": headers[7] }),
    el("td", { class: "num", text: t.procurement_value, "data-label": headers[8] }),
    el("td", { class: "num", text: t.supplier_value, "data-label": headers[9] })));
  $("tables-table").replaceChildren(
    el("thead", {}, el("tr", {}, ...headers.map((h, i) => el("th", { text: h, class: i >= 5 ? "num" : "" })))),
    el("tbody", {}, ...rows));
  const free = [];
  for (const t of v.tables) {
    for (const role of ["procurement", "supplier"]) {
      if (!t[role] && !t.seats[role].bot && v.state !== "debrief") free.push([t, role]);
    }
  }
  const key = JSON.stringify(free.map(([t, r]) => t.number + r));
  if ($("bot-form") && $("bot-form").dataset.key === key) return; // keep the facilitator's choice
  $("bot-form")?.remove();
  if (!free.length) return;
  const seat = el("select", { id: "bot-seat", "aria-label": "Empty seat" },
    ...free.map(([t, role]) => el("option", { value: t.number + "|" + role, text: t.name + ", " + role })));
  const kind = el("select", { id: "bot-name", "aria-label": "Bot" });
  const fill = () => {
    const role = seat.value.split("|")[1];
    kind.replaceChildren(...v.bots[role].map((b) => el("option", { value: b.name, text: b.team + ": " + b.description })));
  };
  seat.addEventListener("change", fill);
  fill();
  const form = el("form", { id: "bot-form", class: "bot-form" }, el("label", { text: "A bot for an empty seat", for: "bot-seat" }),
    seat, kind, el("button", { type: "submit", text: "Seat the bot" }));
  form.dataset.key = key;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const [table, role] = seat.value.split("|");
    action("bot", { table: Number(table), role: role, bot: kind.value });
  });
  $("tables-box").append(form);
}

function fillSettings() {
  const s = view.settings;
  $("scenario").value = s.scenario;
  $("rounds").value = s.rounds;
  $("tables").value = s.tables;
  $("timer-seconds").value = s.timer;
  $("seed").value = s.seed;
  $("table-names").value = s.table_names;
}

function settingsBody() {
  return {
    scenario: $("scenario").value,
    rounds: $("rounds").value,
    tables: $("tables").value,
    timer: $("timer-seconds").value,
    seed: $("seed").value,
    table_names: $("table-names").value,
  };
}

async function post(path, body) {
  message($("message"), "");
  try {
    const data = await api(path, { method: "POST", body: body, headers: auth() });
    await accept(data);
    return data;
  } catch (err) {
    message($("message"), err.message);
    return null;
  }
}

function action(name, extra) { return post("/api/facilitator/action", Object.assign({ action: name }, extra || {})); }

function confirmThen(text, then) {
  pending = then;
  $("confirm-text").textContent = text;
  show($("confirm"), true);
  $("confirm-yes").focus();
}

function applyRoomScreen() {
  for (const node of document.querySelectorAll(".private")) node.classList.toggle("screen-hides", roomScreen);
  document.body.classList.toggle("room-screen", roomScreen);
  $("room-screen").textContent = roomScreen ? "Console (show figures)" : "Room screen (hide figures)";
}

async function exportSession() {
  message($("message"), "");
  try {
    const result = await api("/api/facilitator/export", { method: "POST", body: {}, headers: auth() });
    $("export-result").replaceChildren(
      el("p", { class: "message info", id: "export-folder", text: "Written to " + result.folder }),
      el("ul", {}, ...result.files.map((f) => el("li", { text: f }))));
  } catch (err) {
    message($("message"), err.message);
  }
}

async function loadSeats() {
  if (!$("seat-links").open) return;
  try {
    const data = await api("/api/facilitator/seats", { headers: auth() });
    $("seat-cards").replaceChildren(...data.seats.map((s) => {
      const card = el("div", { class: "seat-card", "data-table": String(s.table), "data-role": s.role },
        el("b", { text: s.table_name + " · " + s.role }),
        el("div", { text: s.bot ? "played by a bot" : s.team ? "team " + s.team : "free" }));
      const code = el("div", { class: "qr" });
      code.innerHTML = s.qr; // segno's SVG of the seat's link
      card.append(code, el("div", { class: "url small-url", text: s.link }));
      return card;
    }));
  } catch (err) {
    message($("message"), err.message);
  }
}

async function loadRooms() {
  try {
    const data = await api("/api/facilitator/sessions", { headers: auth() });
    const headers = ["Code", "Scenario", "Where", "Last change", ""];
    const rows = data.sessions.map((s) => el("tr", {},
      el("td", { text: s.code, "data-label": headers[0] }),
      el("td", { text: s.error ? s.error : s.scenario + ", " + s.tables + " tables", "data-label": headers[1] }),
      el("td", { text: s.error ? "" : s.state + (s.state === "running" || s.state === "paused" ? ", round " + s.round + " of " + s.rounds : ""), "data-label": headers[2] }),
      el("td", { text: new Date(s.updated * 1000).toLocaleString(), "data-label": headers[3] }),
      el("td", {}, s.current ? el("b", { text: "on this console" }) : s.error ? "" :
        el("button", { type: "button", class: "small secondary", text: "Open " + s.code, onclick: () => openRoom(s.code) }))));
    $("rooms").replaceChildren(el("table", { class: "stack rooms" },
      el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)));
  } catch (err) {
    message($("message"), err.message);
  }
}

async function openRoom(code) {
  await post("/api/facilitator/open", { code: code });
  loadRooms();
}

document.addEventListener("DOMContentLoaded", () => {
  countdown = new Countdown($("timer"), $("countdown"));
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    key = decodeURIComponent(match[1]);
    sessionStorage.setItem(KEY, key);
    history.replaceState(null, "", location.pathname); // the key leaves the address bar
  }
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    key = $("key").value.trim();
    sessionStorage.setItem(KEY, key);
    open();
  });
  $("confirm-yes").addEventListener("click", () => { show($("confirm"), false); const then = pending; pending = null; if (then) then(); });
  $("confirm-no").addEventListener("click", () => { show($("confirm"), false); pending = null; });
  $("practice").addEventListener("click", () => action("practice"));
  $("start").addEventListener("click", () => action("start"));
  $("pause").addEventListener("click", () => action("pause"));
  $("resume").addEventListener("click", () => action("resume"));
  $("end-round").addEventListener("click", () => {
    const waiting = view.tables.filter((t) => !t.done).length;
    confirmThen("End " + (view.practice ? "the practice round" : "round " + view.round) + " now? " + waiting + " table(s) still waiting " +
      "play with their teams' last moves repeated. You can undo this until the next move.", () => action("end_round"));
  });
  $("reveal").addEventListener("click", () =>
    confirmThen("Reveal the debrief on every screen, the teams' too? You can undo this.", () => action("reveal")));
  $("undo").addEventListener("click", async () => { await action("undo"); loadRooms(); });
  $("approve-all").addEventListener("click", () => action("approve_all"));
  $("previous-question").addEventListener("click", () => action("question", { question: view.question }));
  $("next-question").addEventListener("click", () => action("question", { question: view.question + 2 }));
  $("room-screen").addEventListener("click", () => { roomScreen = !roomScreen; render(); });
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("/api/facilitator/settings", settingsBody()).then((data) => { if (data) fillSettings(); });
  });
  $("new-session").addEventListener("click", () => {
    const now = view.state === "lobby" ? "stays open" : "keeps running";
    confirmThen("Open a new room with a new code? Room " + view.code + " " + now + " for its teams; switch back to it " +
      "under Rooms. You can undo this until someone joins the new room.", async () => {
      await post("/api/facilitator/new", settingsBody());
      loadRooms();
    });
  });
  $("export").addEventListener("click", exportSession);
  $("download-csv").addEventListener("click", () =>
    download("/api/facilitator/file/rounds.csv", auth(), "rounds.csv").catch((err) => message($("message"), err.message)));
  $("download-html").addEventListener("click", () =>
    download("/api/facilitator/file/debrief.html", auth(), "debrief.html").catch((err) => message($("message"), err.message)));
  $("seat-links").addEventListener("toggle", loadSeats);
  $("refresh-rooms").addEventListener("click", loadRooms);
  if (key) open();
  else show($("login"), true);
});
