// Herald dashboard: polls /admin/api every second (metrics) and two seconds (the rest). The API key is kept in
// sessionStorage and sent as X-Herald-Key; with Herald:Admin basic auth the browser sends its credentials itself.
"use strict";
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem("herald-admin-key") || "";
const history = []; // {t, in, out}
const WINDOW = 120;

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (key) headers["X-Herald-Key"] = key;
  const res = await fetch("/admin/api" + path, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
  if (res.status === 401) { showLogin(); throw new Error("unauthorized"); }
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
  return res.json();
}

function showLogin() { $("login").hidden = false; $("dashboard").hidden = true; $("status").textContent = "authentication required"; }
$("login").onsubmit = (e) => {
  e.preventDefault();
  key = $("key").value.trim();
  sessionStorage.setItem("herald-admin-key", key);
  $("login").hidden = true;
  refresh();
};

function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function button(text, cls, onclick) { const b = el("button", text, cls); b.type = "button"; b.onclick = onclick; return b; }

function renderOverview(o) {
  $("node").textContent = "node " + o.node;
  $("servers").textContent = o.servers;
  $("nodes").textContent = o.nodes.join(", ");
  $("socket-count").textContent = o.localSockets;
  $("sse-count").textContent = o.sseConnections;
  $("bus").textContent = `bus: ${o.bus.kind} (${o.bus.state})` + (o.peerLinks.length ? ` · links: ${o.peerLinks.join(", ")}` : "");
}

function renderNamespaces(list) {
  const body = $("namespaces").tBodies[0];
  body.replaceChildren(...list.map((ns) => {
    const tr = el("tr");
    tr.dataset.ns = ns.name;
    tr.append(el("td", ns.name), el("td", String(ns.sockets) + (ns.clusterWide ? "" : " (this node)")));
    const rooms = el("td");
    for (const r of ns.rooms) rooms.append(el("span", `${r.name} (${r.size})`, "room"));
    tr.append(rooms);
    return tr;
  }));
}

function renderSockets(list) {
  const body = $("sockets").tBodies[0];
  body.replaceChildren(...list.map((s) => {
    const tr = el("tr");
    tr.dataset.id = s.id;
    const rooms = el("td");
    for (const room of s.rooms) {
      const span = el("span", room, "room");
      span.append(button("×", "leave", () => act("/sockets/leave", { id: s.id, namespace: s.namespace, room })));
      span.lastChild.title = "make it leave " + room;
      span.lastChild.dataset.room = room;
      rooms.append(span);
    }
    const h = s.handshake || {};
    const hs = el("td");
    hs.append(el("div", `${h.address || "?"} · ${h.time ? new Date(h.time).toLocaleTimeString() : ""}`),
      el("div", (h.userAgent || "").slice(0, 60), "muted"));
    if (h.auth) hs.append(el("code", JSON.stringify(h.auth)));
    if (s.data && Object.keys(s.data).length) hs.append(el("div", "data: " + JSON.stringify(s.data), "muted"));
    const actions = el("td");
    actions.append(button("Disconnect", "action disconnect", () => act("/sockets/disconnect", { id: s.id, namespace: s.namespace })));
    tr.append(el("td", s.id), el("td", s.namespace), el("td", s.transport || (s.local ? "" : "other node")), rooms, hs, actions);
    return tr;
  }));
}

function renderSse(list) {
  const body = $("sse").tBodies[0];
  body.replaceChildren(...list.map((c) => {
    const tr = el("tr");
    tr.dataset.id = c.id;
    const who = el("td");
    who.append(el("div", c.address || "?"), el("div", (c.userAgent || "").slice(0, 60), "muted"));
    const actions = el("td");
    actions.append(button("Disconnect", "action", () => act("/sse/disconnect", { id: c.id })));
    tr.append(el("td", c.id.slice(0, 12) + "…"), el("td", new Date(c.connectedAt).toLocaleTimeString()), el("td", c.topics.join(", ")), who, el("td", c.query || ""), actions);
    return tr;
  }));
}

async function act(path, body) {
  try { await api(path, body); } catch (e) { $("status").textContent = "action failed: " + e.message; }
  refresh();
}

function sum(values, prefix) {
  let total = 0;
  for (const [k, v] of Object.entries(values)) if (k === prefix || k.startsWith(prefix + "{")) total += v;
  return total;
}

function onMetrics(m) {
  const v = m.values;
  const point = { t: m.at, in: sum(v, "herald.socketio.packets.received"), out: sum(v, "herald.socketio.packets.sent") + sum(v, "herald.sse.events.sent") };
  const prev = history.length ? history[history.length - 1].raw : null;
  const rate = prev ? { t: m.at, in: (point.in - prev.in) * 1000 / Math.max(1, m.at - prev.t), out: (point.out - prev.out) * 1000 / Math.max(1, m.at - prev.t) } : { t: m.at, in: 0, out: 0 };
  history.push({ raw: point, rate });
  while (history.length > WINDOW) history.shift();
  $("rate-label").textContent = `now: ${rate.in.toFixed(1)} in, ${rate.out.toFixed(1)} out`;
  $("rate").dataset.out = String(point.out);
  const ws = v["herald.socketio.connections{transport=websocket}"] || 0, polling = v["herald.socketio.connections{transport=polling}"] || 0;
  $("transports").textContent = `connections: ${ws} websocket, ${polling} polling`;
  draw();
}

function draw() {
  const canvas = $("rate"), ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 560, h = canvas.clientHeight || 120;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...history.map((p) => Math.max(p.rate.in, p.rate.out)));
  ctx.fillStyle = "#999"; ctx.font = "10px sans-serif"; ctx.fillText(max.toFixed(0) + "/s", 4, 10);
  for (const [key, color] of [["in", "#2a7ae2"], ["out", "#e2702a"]]) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
    history.forEach((p, i) => {
      const x = w - (history.length - 1 - i) * (w / (WINDOW - 1));
      const y = h - 2 - (p.rate[key] / max) * (h - 14);
      i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}

async function refresh() {
  try {
    const [o, ns, sockets, sse] = await Promise.all([api("/overview"), api("/namespaces"), api("/sockets"), api("/sse")]);
    $("dashboard").hidden = false;
    renderOverview(o); renderNamespaces(ns); renderSockets(sockets); renderSse(sse);
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.message !== "unauthorized") $("status").textContent = "error: " + e.message;
  }
}

async function tick() {
  try { onMetrics(await api("/metrics")); } catch { /* shown by refresh */ }
}

refresh();
tick();
setInterval(tick, 1000);
setInterval(refresh, 2000);
