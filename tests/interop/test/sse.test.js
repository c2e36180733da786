// Herald's Server-Sent Events (/sse on the interop server) against the `eventsource` npm package, a
// WHATWG-compatible EventSource. The test drives the server through its /sse-test control API.
// No sleeps: every wait is on an event, with a timeout; reconnects are held at a gate, not raced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EventSource } from "eventsource";
import { startServer, TIMEOUT } from "./harness.js";

let server;
const open = [];
before(async () => (server = await startServer()));
after(async () => {
  for (const p of open) p.close();
  await server?.stop();
});

/**
 * An EventSource whose events (the listed types, plus herald:open, herald:missed, message and error) go into one
 * ordered queue; `next()` takes the next one. `holdReconnect()` makes the next connection attempt wait until
 * `releaseReconnect()`, and every attempt's Last-Event-ID header is recorded in `attempts`.
 */
function connect(query = "", types = []) {
  const queue = [];
  const waiters = [];
  const attempts = [];
  let gate = null;
  const push = (item) => {
    const waiter = waiters.shift();
    if (waiter) waiter(item);
    else queue.push(item);
  };
  const es = new EventSource(`${server.url}/sse${query}`, {
    fetch: async (input, init) => {
      attempts.push({ lastEventId: init.headers?.["Last-Event-ID"] ?? null });
      if (gate) await gate.promise;
      return fetch(input, init);
    },
  });
  for (const type of new Set(["herald:open", "herald:missed", "message", ...types])) {
    es.addEventListener(type, (e) => push({ type, data: e.data, id: e.lastEventId }));
  }
  es.addEventListener("error", (e) => push({ type: "error", code: e.code, readyState: es.readyState }));
  const probe = {
    es,
    attempts,
    next(ms = TIMEOUT) {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`timed out waiting for an SSE event on ${query || "/sse"}`));
        }, ms);
        const waiter = (item) => {
          clearTimeout(timer);
          resolve(item);
        };
        waiters.push(waiter);
      });
    },
    /** Resolves with the herald:open payload ({ clientId, resumed }) and the open event's id. */
    async opened() {
      const e = await probe.next();
      assert.equal(e.type, "herald:open", `expected herald:open, got ${JSON.stringify(e)}`);
      return { ...JSON.parse(e.data), id: e.id };
    },
    async data(count) {
      const got = [];
      for (let i = 0; i < count; i++) got.push(await probe.next());
      return got.map((e) => [e.type, e.data]);
    },
    holdReconnect() {
      let release;
      gate = { promise: new Promise((r) => (release = r)), release };
    },
    releaseReconnect() {
      const g = gate;
      gate = null;
      g?.release();
    },
    close() {
      probe.releaseReconnect();
      es.close();
    },
  };
  open.push(probe);
  return probe;
}

/** POST to the control API: /sse-test/{action}?{params}, with a text body. */
async function control(action, params = {}, body = "") {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of [].concat(v)) qs.append(k, item);
  const res = await fetch(`${server.url}/sse-test/${action}?${qs}`, { method: "POST", body, signal: AbortSignal.timeout(TIMEOUT) });
  assert.equal(res.status, 200, `${action} ${qs}: ${res.status}`);
}

test("connect: the first event is herald:open with a 128-bit server-assigned id", async () => {
  const a = connect();
  const { clientId, resumed, id } = await a.opened();
  assert.match(clientId, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(resumed, false);
  assert.match(id, /^[0-9a-z]+-\d+\.[A-Za-z0-9_-]{22}$/, `the event id ${id} is {instance}-{seq}.{resume token}`);
  assert.ok(!id.includes(clientId), `the event id ${id} does not carry the client id`);
  assert.equal(a.es.readyState, EventSource.OPEN);
  const b = connect();
  assert.notEqual((await b.opened()).clientId, clientId);
  a.close();
  b.close();
});

test("send and emit to a client, a topic, several (once each) and everyone; named events", async () => {
  const a = connect("?topic=news", ["greeting"]);
  const b = connect("", ["greeting"]);
  const { clientId: aId } = await a.opened();
  await b.opened();

  await control("send", { to: aId }, "to a");
  await control("send", { to: "news", event: "greeting" }, JSON.stringify({ text: "hi" }));
  await control("send", { event: "unheard" }, "no listener for this type"); // named: not a "message"
  await control("send", { to: [aId, "news"] }, "once");
  await control("send", { to: aId }, "line 1\nline 2");
  await control("send", {}, "to all");

  assert.deepEqual(await a.data(5), [
    ["message", "to a"],
    ["greeting", '{"text":"hi"}'],
    ["message", "once"],
    ["message", "line 1\nline 2"],
    ["message", "to all"],
  ]);
  assert.deepEqual(await b.data(1), [["message", "to all"]]);
  a.close();
  b.close();
});

test("reconnect with Last-Event-ID gets the missed events in order, then live ones", async () => {
  const a = connect("?topic=news", ["greeting"]);
  const { clientId } = await a.opened();
  await control("send", { to: clientId }, "before");
  const before = await a.next();
  assert.equal(before.data, "before");

  a.holdReconnect();
  await control("disconnect", { client: clientId });
  assert.deepEqual(await a.next(), { type: "error", code: undefined, readyState: EventSource.CONNECTING });
  // The client is away (its reconnect waits at the gate): these are missed, kept in history.
  await control("send", { to: "news" }, "missed 1");
  await control("send", { to: clientId, event: "greeting" }, "missed 2");
  await control("send", { to: "weather" }, "not for a");
  await control("send", {}, "missed 3");
  a.releaseReconnect();

  const reopened = await a.opened();
  assert.deepEqual([reopened.clientId, reopened.resumed], [clientId, true]);
  assert.equal(a.attempts.length, 2);
  assert.equal(a.attempts[1].lastEventId, before.id, "EventSource sent the last id it saw");
  assert.deepEqual(await a.data(3), [
    ["message", "missed 1"],
    ["greeting", "missed 2"],
    ["message", "missed 3"],
  ]);
  await control("send", { to: "news" }, "live");
  assert.deepEqual(await a.data(1), [["message", "live"]]);
  a.close();
});

test("close() is final: the stream ends, the reconnect gets 204 and EventSource stops", async () => {
  const a = connect();
  const { clientId } = await a.opened();
  await control("send", { to: clientId }, "last words");
  await control("close", { to: clientId });

  assert.deepEqual(await a.data(1), [["message", "last words"]]);
  assert.deepEqual(await a.next(), { type: "error", code: undefined, readyState: EventSource.CONNECTING });
  assert.deepEqual(await a.next(), { type: "error", code: 204, readyState: EventSource.CLOSED });
  assert.equal(a.attempts.length, 2);
  assert.match(a.attempts[1].lastEventId, /^[0-9a-z]+-\d+\.[A-Za-z0-9_-]{22}$/);
  a.close();
});

test("topics: requested topics are joined; a refused topic is 403, a malformed one 400, and EventSource stops", async () => {
  const a = connect("?topic=news&topic=sports");
  const { clientId } = await a.opened();
  await control("send", { to: "sports" }, "s");
  await control("send", { to: "weather" }, "w");
  await control("send", { to: "news" }, "n");
  await control("send", { to: clientId }, "fence");
  assert.deepEqual(await a.data(3), [
    ["message", "s"],
    ["message", "n"],
    ["message", "fence"],
  ]);

  const refused = connect("?topic=news&topic=private:hr");
  assert.deepEqual(await refused.next(), { type: "error", code: 403, readyState: EventSource.CLOSED });
  const malformed = connect("?topic=");
  assert.deepEqual(await malformed.next(), { type: "error", code: 400, readyState: EventSource.CLOSED });
  assert.equal(refused.attempts.length + malformed.attempts.length, 2);
  a.close();
});

test("the authorization hook names the client, or refuses it", async () => {
  const alice = connect("?user=alice");
  assert.equal((await alice.opened()).clientId, "user-alice");
  await control("send", { to: "user-alice" }, "hello alice");
  assert.deepEqual(await alice.data(1), [["message", "hello alice"]]);
  const mallory = connect("?user=mallory");
  assert.deepEqual(await mallory.next(), { type: "error", code: 401, readyState: EventSource.CLOSED });
  alice.close();
});
