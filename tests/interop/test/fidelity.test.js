// Issue 15, "Differences found": where Herald behaved differently from the Node reference server, checked with
// the official client (and, where the difference is in what goes over the wire, with raw Engine.IO requests).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startServer, once, connected, ask, askAll, collect, TIMEOUT } from "./harness.js";

const here = path.dirname(fileURLToPath(import.meta.url));

let server;
before(async () => (server = await startServer()));
after(async () => server?.stop());

// ---------------------------------------------------------------------------------------------------------------
// forceBase64

test("forceBase64 over WebSocket: binary sent as b<base64> text is accepted and echoed", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"], forceBase64: true }));
  const reply = await ask(s, "echo-binary", Buffer.from([1, 2, 3, 250]));
  assert.deepEqual([...Buffer.from(reply)], [1, 2, 3, 250]);
  assert.equal(s.connected, true);
});

test("forceBase64 over WebSocket: the server answers binary as b<base64> text frames, as Node (b64=1)", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"], forceBase64: true }));
  const transport = s.io.engine.transport;
  const frames = [];
  const original = transport.onData.bind(transport);
  transport.onData = (data) => {
    frames.push(data);
    original(data);
  };
  const reply = await ask(s, "echo-binary", Buffer.from([9, 8, 7]));
  assert.deepEqual([...Buffer.from(reply)], [9, 8, 7]);
  assert.ok(frames.length >= 2, "the ack header and its attachment");
  assert.ok(frames.every((f) => typeof f === "string"), "every frame is text: " + frames.map((f) => typeof f).join(","));
  assert.ok(frames.some((f) => f === "b" + Buffer.from([9, 8, 7]).toString("base64")), "the attachment as b<base64>: " + frames);
});

test("without b64=1 the WebSocket answers binary as binary frames (unchanged)", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"] }));
  const transport = s.io.engine.transport;
  const frames = [];
  const original = transport.onData.bind(transport);
  transport.onData = (data) => {
    frames.push(data);
    original(data);
  };
  await ask(s, "echo-binary", Buffer.from([1]));
  assert.ok(frames.some((f) => typeof f !== "string"), "a binary frame");
});

test("forceBase64 over polling then upgraded WebSocket: binary both ways", async () => {
  const s = server.client("/", { forceBase64: true });
  const upgraded = once(s.io.engine ?? s.io, "open").then(() => once(s.io.engine, "upgrade"));
  await connected(s);
  await upgraded;
  assert.equal(s.io.engine.transport.name, "websocket");
  const reply = await ask(s, "echo-binary", Buffer.from([4, 5, 6]));
  assert.deepEqual([...Buffer.from(reply)], [4, 5, 6]);
});

// ---------------------------------------------------------------------------------------------------------------
// Raw Engine.IO helpers (the timing of the noop after a probe is below the client's API)

async function handshake(extraQuery = "") {
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling${extraQuery}`);
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.equal(body[0], "0");
  return { open: JSON.parse(body.slice(1)), headers: res.headers };
}

function pollUrl(sid) {
  return `${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
}

function openWebSocket(sid) {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
  const messages = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    const m = isBinary ? data : data.toString();
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  return {
    ws,
    opened: once(ws, "open"),
    next(ms = TIMEOUT) {
      if (messages.length) return Promise.resolve(messages.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no WebSocket message")), ms);
        waiters.push((m) => {
          clearTimeout(t);
          resolve(m);
        });
      });
    },
  };
}

test("after the WebSocket probe the waiting GET is not ended at once: a packet sent meanwhile still goes on it (Node's upgrade check)", async () => {
  const { open } = await handshake();
  const get = fetch(pollUrl(open.sid)).then((r) => r.text());
  const ws = openWebSocket(open.sid);
  await ws.opened;
  ws.ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  // Socket.IO CONNECT on the polling transport, right after the probe answer: Node answers it on the waiting GET
  // (its noop comes from a 100 ms timer); the GET must not have been answered with a bare noop already.
  const post = await fetch(pollUrl(open.sid), { method: "POST", body: "40" });
  assert.equal(await post.text(), "ok");
  const body = await get;
  assert.match(body, /^40\{"sid":"[^"]+"\}/, "the CONNECT ack on the waiting GET, got: " + body);
  ws.ws.send("5");
  ws.ws.close();
});

test("after the WebSocket probe an idle waiting GET gets its noop from the upgrade check, ~100 ms later, not at once", async () => {
  const { open } = await handshake();
  const get = fetch(pollUrl(open.sid)).then((r) => r.text());
  const ws = openWebSocket(open.sid);
  await ws.opened;
  ws.ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  const probed = performance.now();
  assert.equal(await get, "6");
  const elapsed = performance.now() - probed;
  assert.ok(elapsed >= 80, `noop after ${elapsed.toFixed(1)} ms (Node: the first 100 ms tick)`);
  ws.ws.send("5");
  // The upgraded session works: a CONNECT over the WebSocket is answered there.
  ws.ws.send("40");
  assert.match(await ws.next(), /^40\{"sid"/);
  ws.ws.close();
});

test("the official client still upgrades, and sees on the polling GET what it sees on Node: the CONNECT ack, then the noop", async () => {
  const s = server.client("/", { autoConnect: false });
  const onPolling = [];
  s.io.on("open", () => {
    s.io.engine.on("packet", (p) => {
      if (s.io.engine.transport.name === "polling") onPolling.push(p.type);
    });
  });
  s.connect();
  await connected(s);
  await (s.io.engine.transport.name === "websocket" ? Promise.resolve() : once(s.io.engine, "upgrade"));
  assert.equal(s.io.engine.transport.name, "websocket");
  assert.equal(onPolling[0], "message", "the CONNECT ack came on polling: " + onPolling);
  assert.equal(await ask(s, "echo", "ok"), "ok");
});

// ---------------------------------------------------------------------------------------------------------------
// Hooks: headers, current request, handshake, query

test("initial_headers on the handshake only, headers on every request (polling GET, POST, WebSocket upgrade)", async () => {
  const { open, headers } = await handshake();
  assert.equal(headers.get("x-initial"), "1");
  assert.equal(headers.get("x-every"), "1");
  const post = await fetch(pollUrl(open.sid), { method: "POST", body: "40" });
  assert.equal(post.headers.get("x-every"), "1");
  assert.equal(post.headers.get("x-initial"), null);
  const get = await fetch(pollUrl(open.sid));
  assert.equal(get.headers.get("x-every"), "1");
  assert.equal(get.headers.get("x-initial"), null);
  await get.text();

  const upgradeHeaders = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    ws.on("upgrade", (res) => {
      resolve(res.headers);
      ws.close();
    });
    ws.on("error", reject);
  });
  assert.equal(upgradeHeaders["x-every"], "1");
  assert.equal(upgradeHeaders["x-initial"], "1", "a WebSocket-only handshake is the initial request");
});

test("a handler sees the headers of the request that carried the packet, not only the opening one", async () => {
  const { open } = await handshake();
  await fetch(pollUrl(open.sid), { method: "POST", body: "40", headers: { "x-step": "connect" } });
  const connectAck = await (await fetch(pollUrl(open.sid))).text();
  assert.match(connectAck, /^40/);
  const post = await fetch(pollUrl(open.sid), { method: "POST", body: '421["current-header","x-step"]', headers: { "x-step": "later" } });
  assert.equal(await post.text(), "ok");
  const answer = await (await fetch(pollUrl(open.sid))).text();
  assert.equal(answer, '431["later"]');
});

test("socket.handshake serialised as Node: headers, time, address, xdomain, secure, issued, url, query, auth", async () => {
  const s = await connected(server.client("/", { auth: { token: "t1" }, query: { q: "v" }, extraHeaders: { "x-custom": "abc" } }));
  const h = await ask(s, "handshake");
  assert.deepEqual(Object.keys(h).sort(), ["address", "auth", "headers", "issued", "query", "secure", "time", "url", "xdomain"]);
  assert.equal(h.headers["x-custom"], "abc");
  assert.equal(typeof h.headers.host, "string");
  assert.ok(Object.keys(h.headers).every((k) => k === k.toLowerCase()), "header names in lower case as Node");
  assert.equal(typeof h.time, "string");
  assert.equal(new Date(h.time).getTime() / 1000 | 0, (h.issued / 1000) | 0, "time is Date#toString of issued");
  assert.match(h.time, /^\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}/);
  assert.ok(Math.abs(Date.now() - h.issued) < 60_000);
  assert.match(h.address, /127\.0\.0\.1$/);
  assert.equal(h.xdomain, false, "no Origin header from Node");
  assert.equal(h.secure, false);
  assert.match(h.url, /^\/socket\.io\/\?/);
  assert.equal(h.query.q, "v");
  assert.equal(h.query.EIO, "4");
  assert.equal(h.query.transport, "polling");
  assert.deepEqual(h.auth, { token: "t1" });
});

test("the handshake query keeps case-sensitive keys (Node's querystring)", async () => {
  const s = await connected(server.client("/", { query: { Token: "A", token: "b" } }));
  const q = await ask(s, "handshake-query");
  assert.equal(q.Token, "A");
  assert.equal(q.token, "b");
});

// ---------------------------------------------------------------------------------------------------------------
// Flush, then close

test("Close() inside a handler over WebSocket: everything emitted before goes out first, then the close", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"] }));
  const got = collect(s, "n");
  const closed = once(s, "disconnect");
  s.emit("emit-then-close", 200);
  const [reason] = await closed;
  assert.equal(reason, "transport close");
  assert.equal(got.length, 200, `all 200 packets before the close, got ${got.length}`);
  assert.deepEqual(got.map((a) => a[0]).slice(0, 3), [1, 2, 3]);
});

test("disconnectSockets(true) from a handler over WebSocket: the client hears io server disconnect, as on Node", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"] }));
  const closed = once(s, "disconnect");
  s.emit("disconnect-and-close");
  const [reason] = await closed;
  assert.equal(reason, "io server disconnect");
});

test("MaxAttachments: a packet with more attachments than allowed closes the connection (the rest of the session intact up to then)", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"] }));
  assert.equal(await ask(s, "echo", "before"), "before");
  const closed = once(s, "disconnect");
  const many = Array.from({ length: 11 }, (_, i) => Buffer.from([i]));
  s.emit("echo", ...many);
  const [reason] = await closed;
  assert.equal(reason, "transport close");
  // Ten attachments (the default MaxAttachments) pass.
  const t = await connected(server.client("/", { transports: ["websocket"] }));
  const ten = await askAll(t, "echo", ...many.slice(0, 10));
  assert.equal(ten.length, 10);
});

// ---------------------------------------------------------------------------------------------------------------
// The client bundle (Node's serveClient)

for (const file of ["socket.io.min.js", "socket.io.min.js.map", "socket.io.js", "socket.io.js.map"]) {
  test(`GET /socket.io/${file}: the socket.io-client npm package's file, with ETag and 304`, async () => {
    const expected = readFileSync(path.join(here, "../node_modules/socket.io-client/dist", file));
    const version = JSON.parse(readFileSync(path.join(here, "../node_modules/socket.io-client/package.json"), "utf8")).version;
    const res = await fetch(`${server.url}/socket.io/${file}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), file.endsWith(".map") ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "public, max-age=0");
    assert.equal(res.headers.get("etag"), `"${version}"`);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(expected), `${file}: the bundle served is socket.io-client ${version}'s (${body.length} vs ${expected.length} bytes)`);

    const again = await fetch(`${server.url}/socket.io/${file}`, { headers: { "if-none-match": `"${version}"` } });
    assert.equal(again.status, 304);
    const weak = await fetch(`${server.url}/socket.io/${file}?v=1`, { headers: { "if-none-match": `W/"${version}"` } });
    assert.equal(weak.status, 304);
  });
}

test("GET /socket.io/socket.io.min.js with Accept-Encoding: gzip or br answers compressed", async () => {
  const expected = readFileSync(path.join(here, "../node_modules/socket.io-client/dist/socket.io.min.js"));
  // fetch decodes the body itself: the content must still be the bundle.
  const res = await fetch(`${server.url}/socket.io/socket.io.min.js`, { headers: { "accept-encoding": "br, gzip" } });
  assert.equal(res.status, 200);
  assert.ok(["br", "gzip"].includes(res.headers.get("content-encoding")), "compressed: " + res.headers.get("content-encoding"));
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(expected));
});
