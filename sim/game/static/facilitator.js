// The facilitator's console: the session's code and QR, its settings, every table, the
// leaderboard, the controls and the debrief. Needs the key printed by `procsim game`.
"use strict";

const KEY = "procsim.facilitator";
let key = sessionStorage.getItem(KEY);
let version = null;
let view = null;
let room = null;
let countdown = null;
let roomScreen = false;

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
  poll();
}

async function poll() {
  try {
    const data = await api("/api/facilitator" + (version === null ? "" : "?since=" + version), { headers: auth() });
    accept(data);
  } catch (err) {
    message($("message"), err.message);
  }
  setTimeout(poll, 1000);
}

function accept(data) {
  if (data.view) {
    const fresh = !view || data.view.code !== view.code;
    version = data.version;
    view = data.view;
    if (fresh) fillSettings();
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
  $("state").textContent = STATES[v.state] + (v.round ? " · round " + v.round + " of " + v.rounds : "");
  $("devices").textContent = v.devices + " device(s) joined";
  $("start").disabled = v.state !== "lobby";
  $("pause").disabled = v.state !== "running";
  $("resume").disabled = v.state !== "paused";
  $("end-round").disabled = !(v.state === "running" || v.state === "paused");
  $("reveal").disabled = v.state === "lobby" || v.state === "debrief" || !v.tables.some((t) => t.rounds_played > 0);
  $("apply").disabled = v.state !== "lobby"; // a running game keeps its settings; a new session takes them
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
      parts.push(el("div", { class: "scroll" }, dataTable(t.rounds, "table-rounds")));
    }
    $("tables-rounds").replaceChildren(...parts);
  }
  applyRoomScreen();
}

function mark(done) { return el("span", { class: done ? "tick" : "wait", text: done ? "✓ in" : "…" }); }

function renderTables(v) {
  const headers = ["Table", "Procurement team", "Demand", "Supplier team", "Answer", "Rounds played",
    "Discount", "Capability", "Procurement value", "Supplier value"];
  const rows = v.tables.map((t) => el("tr", { "data-table": String(t.number) },
    el("td", { text: t.name }),
    el("td", { class: "name", text: t.procurement || "(free)" }),
    el("td", {}, mark(t.demand_in)),
    el("td", { class: "name", text: t.supplier || "(free)" }),
    el("td", {}, mark(t.answer_in)),
    el("td", { class: "num", text: String(t.rounds_played) }),
    el("td", { class: "num", text: t.discount }),
    el("td", { class: "num", text: t.capability }),
    el("td", { class: "num", text: t.procurement_value }),
    el("td", { class: "num", text: t.supplier_value })));
  $("tables-table").replaceChildren(
    el("thead", {}, el("tr", {}, ...headers.map((h, i) => el("th", { text: h, class: i >= 5 ? "num" : "" })))),
    el("tbody", {}, ...rows));
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
    accept(data);
    return data;
  } catch (err) {
    message($("message"), err.message);
    return null;
  }
}

function action(name, extra) { return post("/api/facilitator/action", Object.assign({ action: name }, extra || {})); }

function applyRoomScreen() {
  for (const node of document.querySelectorAll(".private")) show(node, !roomScreen);
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

document.addEventListener("DOMContentLoaded", () => {
  countdown = new Countdown($("timer"));
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
  $("start").addEventListener("click", () => action("start"));
  $("pause").addEventListener("click", () => action("pause"));
  $("resume").addEventListener("click", () => action("resume"));
  $("end-round").addEventListener("click", () => action("end_round"));
  $("reveal").addEventListener("click", () => action("reveal"));
  $("previous-question").addEventListener("click", () => action("question", { question: view.question }));
  $("next-question").addEventListener("click", () => action("question", { question: view.question + 2 }));
  $("room-screen").addEventListener("click", () => { roomScreen = !roomScreen; applyRoomScreen(); });
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("/api/facilitator/settings", settingsBody()).then((data) => { if (data) fillSettings(); });
  });
  $("new-session").addEventListener("click", async () => {
    const data = await post("/api/facilitator/new", settingsBody());
    if (data) { await loadRoom(); fillSettings(); }
  });
  $("export").addEventListener("click", exportSession);
  $("download-csv").addEventListener("click", () =>
    download("/api/facilitator/file/rounds.csv", auth(), "rounds.csv").catch((err) => message($("message"), err.message)));
  $("download-html").addEventListener("click", () =>
    download("/api/facilitator/file/debrief.html", auth(), "debrief.html").catch((err) => message($("message"), err.message)));
  if (key) open();
  else show($("login"), true);
});
