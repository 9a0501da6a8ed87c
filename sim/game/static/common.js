// Helpers shared by the player's and the facilitator's pages. User text is only ever set
// with textContent; the only markup inserted is the server's own SVG charts and QR code.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function $(id) { return document.getElementById(id); }

function show(node, visible) { node.classList.toggle("hidden", !visible); }

function message(node, text, kind) {
  node.textContent = text || "";
  node.className = "message " + (kind || "error");
  show(node, Boolean(text));
}

// A table from {headers, rows}; every cell is text. Figures are right-aligned, words left.
const FIGURE = /^[-+]?([A-Z]{3} )?-?[\d.,]+(%|[kMBT])?( of \d+)?$/;

// On a phone (class "stack") each row becomes a card whose cells carry their column's name.
function dataTable(data, cls) {
  const figures = data.headers.map((_h, i) => data.rows.length > 0 && data.rows.every((r) => r[i] === "" || FIGURE.test(r[i])));
  const head = el("tr", {}, ...data.headers.map((h, i) => el("th", { text: h, class: figures[i] ? "num" : "" })));
  const body = data.rows.map((row) =>
    el("tr", {}, ...row.map((cell, i) => el("td", { text: cell, class: figures[i] ? "num" : "", "data-label": data.headers[i] }))));
  return el("table", { class: "stack " + (cls || "") }, el("thead", {}, head), el("tbody", {}, ...body));
}

// The server's SVG charts (it escapes every label).
function charts(node, svgs, cls) {
  node.replaceChildren();
  node.className = "charts " + (cls || "");
  for (const svg of svgs) {
    const box = el("div", { class: "chart" });
    box.innerHTML = svg;
    node.append(box);
  }
}

const OFFLINE = "cannot reach the game server; check the Wi-Fi (this page goes on by itself once it is back)";

// Clears the "cannot reach the server" message once a request has gone through again.
function online() {
  if ($("message").textContent === OFFLINE) message($("message"), "");
}

class ApiError extends Error {
  constructor(message, status, field) { super(message); this.status = status; this.field = field; }
}

async function api(path, options) {
  const opts = options || {};
  const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  const init = { method: opts.method || "GET", headers: headers, cache: "no-store" };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(OFFLINE, 0, "");
  }
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("application/json")) {
    if (!response.ok) throw new ApiError("the server answered " + response.status, response.status, "");
    return response;
  }
  const data = await response.json();
  if (!response.ok) throw new ApiError(data.error || "the server refused", response.status, data.field || "");
  return data;
}

async function download(path, headers, name) {
  const response = await fetch(path, { headers: headers, cache: "no-store" });
  if (!response.ok) {
    let text = "download failed";
    try { text = (await response.json()).error; } catch (err) { /* not JSON */ }
    throw new ApiError(text, response.status, "");
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Counts the round's time down between polls on every node given; the server's figure wins at every poll.
class Countdown {
  constructor(...nodes) {
    this.nodes = nodes;
    this.until = null;
    this.paused = false;
    setInterval(() => this.draw(), 250);
  }
  set(remaining, paused) {
    this.paused = paused;
    this.until = remaining === null || remaining === undefined ? null : Date.now() + remaining * 1000;
    this.draw();
  }
  draw() {
    let text = "";
    if (this.until !== null) {
      const left = Math.max(0, Math.round((this.until - Date.now()) / 1000));
      text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    }
    this.nodes.forEach((node, i) => {
      if (i === 0) node.textContent = text ? (this.paused ? "paused, " : "") + text + " left" : "";
      else node.textContent = text ? text : "";
      node.classList.toggle("paused", this.paused);
    });
  }
}

function pct(value, digits) { return (100 * value).toFixed(digits === undefined ? 1 : digits) + "%"; }

// The debrief: the question on screen first (every device follows the facilitator to it), then
// the shared legend, the charts (one per row on a phone) and the ranking.
let shownQuestion = null;

function renderDebrief(node, d, question) {
  node.replaceChildren();
  const q = Math.min(question, d.questions.length - 1);
  const box = el("div", { class: "question-box", id: node.id + "-question" },
    el("h3", { text: "Question " + (q + 1) + " of " + d.questions.length }),
    el("p", { class: "question", text: d.questions[q] }));
  node.append(el("h2", { text: d.title }), box, el("p", { text: d.policy }));
  const legend = el("p", { class: "legend" });
  for (const entry of d.legend) {
    const swatch = el("i", { class: "swatch" + (entry.dash ? " dashed" : "") });
    swatch.style.background = entry.color;
    legend.append(el("span", { class: "legend-entry" }, swatch, entry.name));
  }
  node.append(legend);
  const grid = el("div");
  charts(grid, d.charts.map((c) => c.svg), "debrief-charts");
  node.append(grid);
  node.append(el("h3", { text: "Ranking by joint value" }));
  node.append(dataTable(d.ranking, "ranking"));
  if (shownQuestion !== q) {
    shownQuestion = q;
    box.scrollIntoView({ block: "start" });
  }
  return grid;
}
