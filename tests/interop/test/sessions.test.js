// Herald sessions, channels, users, socket ids and typed messages against the official socket.io-client and the
// `eventsource` package, with the herald.sid cookie a browser would send (interop server with HERALD_SESSIONS=1).
// No sleeps: "did not arrive" is checked by a marker published after it on the same path (per-client order).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EventSource } from "eventsource";
import { startServer, connected, ask, TIMEOUT } from "./harness.js";

let server;
before(async () => (server = await startServer({ HERALD_SESSIONS: "1" })));
after(async () => server?.stop());

/** Resolves with the next `type` event of an EventSource, rejects after the timeout. */
function esOnce(es, type) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for SSE "${type}"`)), TIMEOUT);
    es.addEventListener(type, (e) => {
      clearTimeout(timer);
      resolve(e);
    }, { once: true });
  });
}

/** A new browser: GET /sessions-test/session returns the session id and sets the cookie. */
async function newBrowser() {
  const res = await fetch(server.url + "/sessions-test/session", { signal: AbortSignal.timeout(TIMEOUT) });
  assert.equal(res.status, 200);
  const setCookie = res.headers.get("set-cookie");
  assert.match(setCookie, /^herald\.sid=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22};/); // {session id}.{signature}
  assert.match(setCookie, /httponly/i);
  assert.match(setCookie, /samesite=lax/i);
  const id = await res.text();
  return { id, cookie: setCookie.split(";")[0] };
}

function tab(browser, opts = {}) {
  return connected(server.client("/", { extraHeaders: browser ? { cookie: browser.cookie } : {}, ...opts }));
}

async function post(path, body) {
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  assert.equal(res.status, 200);
}

/** Every event of a socket in arrival order; next() takes the next one. */
function events(socket) {
  const queue = [];
  const waiters = [];
  socket.onAny((name, ...args) => {
    const w = waiters.shift();
    if (w) w({ name, args });
    else queue.push({ name, args });
  });
  return {
    next() {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for an event")), TIMEOUT);
        waiters.push((item) => {
          clearTimeout(timer);
          resolve(item);
        });
      });
    },
  };
}

test("tabs sharing the cookie share channels; a channel union arrives once with the first matching channel last", async () => {
  const browser = await newBrowser();
  const tab1 = await tab(browser);
  const tab2 = await tab(browser, { transports: ["websocket"] });
  const stranger = await tab(null);
  const e1 = events(tab1);
  const e2 = events(tab2);
  const e3 = events(stranger);
  const who1 = await ask(tab1, "sessions:whoami");
  const who2 = await ask(tab2, "sessions:whoami");
  assert.equal(who1.session, browser.id);
  assert.equal(who2.session, browser.id);
  assert.notEqual(who1.socket, who2.socket);
  assert.notEqual((await ask(stranger, "sessions:whoami")).session, browser.id);

  assert.deepEqual(await ask(tab1, "sessions:subscribe", ["disney", "kids"]), ["disney", "kids"]);
  await post("/sessions-test/publish", { kind: "channel", to: ["kids", "disney"], event: "chatMessage", args: [{ from: "jerry", message: "Has anyone seen Tom?" }] });
  await post("/sessions-test/publish", { kind: "all", event: "marker", args: [] });
  for (const e of [e1, e2]) {
    const got = await e.next();
    assert.equal(got.name, "chatMessage");
    assert.deepEqual(got.args, [{ from: "jerry", message: "Has anyone seen Tom?" }, "kids"]);
    assert.equal((await e.next()).name, "marker");
  }
  assert.equal((await e3.next()).name, "marker");

  await post("/sessions-test/publish", { kind: "socketId", to: [who2.socket], event: "justForMe", args: ["Just for one tab"] });
  assert.deepEqual(await e2.next(), { name: "justForMe", args: ["Just for one tab"] });
});

test("a page on another site opening a socket with the visitor's cookie does not get the visitor's session", async () => {
  // Cross-site WebSocket hijacking: browsers send the cookie on a cross-site WebSocket (and polling with credentials).
  const browser = await newBrowser();
  const own = await tab(browser, { extraHeaders: { cookie: browser.cookie, origin: server.url } });
  assert.equal((await ask(own, "sessions:whoami")).session, browser.id);
  for (const transports of [["websocket"], ["polling"]]) {
    const evil = await tab(browser, { transports, extraHeaders: { cookie: browser.cookie, origin: "https://evil.example" } });
    assert.notEqual((await ask(evil, "sessions:whoami")).session, browser.id, transports[0]);
    evil.disconnect();
  }
  // A cookie the server did not sign (session fixation) is not adopted either.
  const fixed = await tab({ cookie: "herald.sid=" + browser.id });
  assert.notEqual((await ask(fixed, "sessions:whoami")).session, browser.id);
  for (const s of [own, fixed]) s.disconnect();
});

test("user events stop at sign-out for that session only", async () => {
  const laptop = await newBrowser();
  const phone = await newBrowser();
  const a = await tab(laptop);
  const b = await tab(phone);
  const ea = events(a);
  const eb = events(b);
  await ask(a, "sessions:login", "fred");
  await ask(b, "sessions:login", "fred");
  await ask(a, "sessions:logout");
  await post("/sessions-test/publish", { kind: "user", to: ["fred"], event: "specialOffer", args: ["offer"] });
  await post("/sessions-test/publish", { kind: "all", event: "marker", args: [] });
  assert.equal((await ea.next()).name, "marker");
  assert.deepEqual(await eb.next(), { name: "specialOffer", args: ["offer"] });
});

test("typed messages: herald:subscribe with an ack, filtered by (source, type), also over EventSource", async () => {
  const browser = await newBrowser();
  const socket = await tab(browser);
  const e = events(socket);
  const sub = { source: { type: "User", key: "42" }, type: "UserAdded" };
  assert.deepEqual(await ask(socket, "herald:subscribe", sub), { ok: true });
  assert.deepEqual(await ask(socket, "herald:subscribe", { source: { type: "Secret", key: "1" }, type: "UserAdded" }), { ok: false, error: "forbidden" });

  const es = new EventSource(`${server.url}/sse?msgSource=User:42&msgType=UserAdded`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, cookie: browser.cookie } }),
  });
  try {
    await esOnce(es, "herald:open");
    const sseMessage = esOnce(es, "herald:message");
    const user = { id: "42", name: "Fred", address: { city: "Bedrock", geo: { lat: 1.5, lon: -2 } }, tags: ["a", "b"] };
    await post("/sessions-test/message", { source: { type: "User", key: "43" }, type: "UserAdded", message: { user } });
    await post("/sessions-test/message", { source: { type: "User", key: "42" }, type: "UserRemoved", message: { id: "42" } });
    await post("/sessions-test/message", { source: { type: "User", key: "42" }, type: "UserAdded", message: { user } });
    const expected = { source: { type: "User", key: "42" }, type: "UserAdded", message: { user } };
    assert.deepEqual(await e.next(), { name: "herald:message", args: [expected] });
    const event = await sseMessage;
    assert.deepEqual(JSON.parse(event.data), expected);
  } finally {
    es.close();
  }
});
