// The studio's page: upload accounts, set the business numbers, ask, read the answer, compare answers.
// Text from the server is set with textContent; the answer's tables are the report's own HTML
// fragments (the server escapes every name in them) and charts are images.
"use strict";

const state = { scenario: null, upload: null, fields: [], answers: [], busy: false };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

class ApiError extends Error {
  constructor(message, field) { super(message); this.field = field || ""; }
}

async function api(path, init) {
  let response;
  try {
    response = await fetch(path, Object.assign({ cache: "no-store" }, init || {}));
  } catch (err) {
    throw new ApiError("cannot reach the studio; is `procsim studio` still running?");
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) throw new ApiError((data && data.error) || "the studio answered " + response.status, data && data.field);
  return data;
}

function say(text, kind) {
  const box = $("message");
  box.textContent = text || "";
  box.className = "message " + (kind || "error");
  box.classList.toggle("hidden", !text);
}

function clearInvalid() {
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
}

function fail(err) {
  say(err.message, "error");
  const node = err.field ? document.querySelector(`[data-field="${CSS.escape(err.field)}"]`) : null;
  if (node) {
    node.classList.add("invalid");
    if (node.focus) node.focus();
  }
}

// ------------------------------------------------------------------ the market

async function loadScenarios() {
  const data = await api("/api/scenarios");
  const select = $("scenario");
  for (const s of data.scenarios) select.append(el("option", { value: s.name, text: s.name }));
  select.value = data.default;
  await loadForm();
}

async function loadForm() {
  clearInvalid();
  const params = new URLSearchParams({ scenario: $("scenario").value });
  if (state.upload) params.set("upload", state.upload.id);
  let form;
  try {
    form = await api("/api/form?" + params.toString());
  } catch (err) {
    fail(err);
    return false;
  }
  state.scenario = form.scenario;
  state.fields = form.fields;
  $("scenario-description").textContent = form.description;
  const box = $("numbers");
  box.replaceChildren();
  for (const f of form.fields) {
    const id = "f-" + f.path;
    const unit = f.kind === "pct" ? " (%)" : f.kind === "int" ? " (" + f.help + ")" : "";
    box.append(el("label", { for: id }, f.label + unit + " ", el("span", { class: "help", text: f.kind === "int" ? "" : f.help })));
    let input;
    if (f.kind === "choice") {
      input = el("select", { id: id, "data-field": f.path, "data-path": f.path });
      for (const c of f.choices) input.append(el("option", { value: c, text: c }));
      input.value = f.value;
    } else {
      input = el("input", { id: id, type: "text", value: f.value, "data-field": f.path, "data-path": f.path });
    }
    box.append(input);
  }
  const to = $("to");
  const previous = to.value;
  to.replaceChildren();
  if (form.accounts.length) {
    const group = el("optgroup", { label: "your accounts (today's discount)" });
    for (const a of form.accounts) {
      group.append(el("option", { value: a.name, text: `${a.name} (${(100 * a.current_discount).toFixed(1).replace(/\.0$/, "")}%)` }));
    }
    to.append(group);
  }
  const segments = el("optgroup", { label: "segments (every customer of yours in it)" });
  for (const s of form.segments) segments.append(el("option", { value: s, text: s }));
  to.append(segments);
  if ([...to.options].some((o) => o.value === previous)) to.value = previous;
  return true;
}

async function uploadFile() {
  clearInvalid();
  say("");
  const file = $("file").files[0];
  if (!file) return;
  $("upload-status").textContent = "reading " + file.name + " ...";
  try {
    const data = await api("/api/accounts", {
      method: "POST",
      headers: { "X-File-Name": encodeURIComponent(file.name), "Content-Type": "application/octet-stream" },
      body: file,
    });
    state.upload = { id: data.id, name: data.name };
    if (await loadForm()) {
      $("upload-status").textContent = `${data.accounts.length} accounts from ${data.name}`;
    } else {
      state.upload = null;
      $("upload-status").textContent = "";
      $("file").value = "";
    }
  } catch (err) {
    state.upload = null;
    $("upload-status").textContent = "";
    $("file").value = "";
    await loadForm();
    fail(err);
  }
}

// ------------------------------------------------------------------ the question

function kind() { return document.querySelector("input[name=kind]:checked").value; }

function showKind() {
  for (const row of document.querySelectorAll("[data-kinds]")) {
    row.classList.toggle("hidden", !row.dataset.kinds.split(" ").includes(kind()));
  }
}

function numbers() {
  const out = {};
  for (const f of state.fields) out[f.path] = $("f-" + f.path).value;
  return out;
}

async function ask(event) {
  event.preventDefault();
  if (state.busy) return;
  clearInvalid();
  say("");
  const question = { kind: kind(), to: $("to").value };
  for (const id of ["level", "step", "low", "high", "by", "keep", "start", "replicates", "rate"]) question[id] = $(id).value;
  const body = { scenario: $("scenario").value, upload: state.upload ? state.upload.id : null, numbers: numbers(), question: question };
  state.busy = true;
  $("ask-button").disabled = true;
  $("ask-button").textContent = "Running ...";
  try {
    const answer = await api("/api/ask", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    show(answer);
    state.answers.push(answer);
    renderList();
  } catch (err) {
    fail(err);
  } finally {
    state.busy = false;
    $("ask-button").disabled = false;
    $("ask-button").textContent = "Answer";
  }
}

// ------------------------------------------------------------------ the answer

function show(answer) {
  $("result").classList.remove("hidden");
  $("result").dataset.answer = answer.id;
  // The report's own fragments: every name in them was escaped by the server.
  $("answer-html").innerHTML = answer.html.answer;
  $("answer-meta").textContent = `${answer.title} · ${answer.scenario} · answered in ${answer.seconds.toFixed(1)} s`;
  const [html, xlsx, yaml] = answer.downloads;
  $("dl-html").href = html;
  $("dl-xlsx").href = xlsx;
  $("dl-yaml").href = yaml;
  $("command").textContent = answer.command;
  const charts = $("charts");
  charts.replaceChildren();
  const names = { cost: "your profit over time", parts: "where it comes from", curve: "the cost curve", followers: "which peers follow, and when" };
  for (const name of ["cost", "parts", "curve", "followers"]) {
    if (answer.charts[name]) charts.append(el("img", { src: answer.charts[name], alt: names[name], "data-chart": name }));
  }
  $("curve-html").innerHTML = answer.html.curve;
  $("years-html").innerHTML = answer.html.years;
  $("followers-html").innerHTML = answer.html.followers;
  $("accounts-html").innerHTML = answer.html.accounts;
  $("overview").src = answer.charts.overview;
  $("result").scrollIntoView({ block: "start" });
}

// ------------------------------------------------------------------ the comparison

function renderList() {
  $("compare").classList.remove("hidden");
  const list = $("answer-list");
  const checked = new Set([...list.querySelectorAll("input:checked")].map((n) => Number(n.value)));
  const last = state.answers[state.answers.length - 1].id;
  checked.add(last);
  list.replaceChildren();
  for (const a of state.answers) {
    const box = el("input", { type: "checkbox", value: a.id, id: "pick-" + a.id, checked: checked.has(a.id), onchange: renderComparison });
    const link = el("a", { href: "#", text: "show", onclick: (e) => { e.preventDefault(); show(a); } });
    list.append(el("li", {}, box, " ", el("label", { for: "pick-" + a.id, class: "choice-inline", text: `#${a.id} ${a.title} (${a.scenario})` }), " ", link));
  }
  renderComparison();
}

function renderComparison() {
  const picked = new Set([...$("answer-list").querySelectorAll("input:checked")].map((n) => Number(n.value)));
  const chosen = state.answers.filter((a) => picked.has(a.id));
  const table = $("comparison");
  table.replaceChildren();
  if (!chosen.length) return;
  table.append(el("tr", {}, el("th", { text: "" }), ...chosen.map((a) => el("th", { text: `#${a.id} ${a.title}` }))));
  const rows = [];
  for (const a of chosen) for (const line of a.lines) if (!rows.some((r) => r.key === line.key)) rows.push(line);
  for (const row of rows) {
    const cells = chosen.map((a) => {
      const line = a.lines.find((l) => l.key === row.key);
      return el("td", { class: "num", text: line ? line.value : "" });
    });
    table.append(el("tr", { "data-key": row.key }, el("td", { text: row.row }), ...cells));
  }
  table.append(el("tr", {}, el("td", { text: "the answer" }), ...chosen.map((a) => el("td", { class: "words", text: a.text }))));
}

document.addEventListener("DOMContentLoaded", () => {
  $("scenario").addEventListener("change", () => { say(""); loadForm(); });
  $("file").addEventListener("change", uploadFile);
  for (const radio of document.querySelectorAll("input[name=kind]")) radio.addEventListener("change", showKind);
  $("question-form").addEventListener("submit", ask);
  showKind();
  loadScenarios().catch(fail);
});
