// A web node killed with SIGKILL under load (issue 7, "Faults"): two Herald nodes share a real redis-server (bus,
// session store), connection-state recovery and sessions are on. Clients of node A, each with its own herald.sid
// cookie, are subscribed to a session channel while a worker publishes a numbered stream to that channel through
// node B's publish API. Node A is killed mid-stream; every client reconnects to B with its cookie and must come back
// recovered (same socket id), with its session and its channel, having seen every number once, in order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, once, connected, ask, TIMEOUT, startRedis } from "./harness.js";

const CLIENTS = 20;
const COUNT = 200;
const KILL_AT = 80;
let redis, nodeA, nodeB;

before(async () => {
  let port;
  ({ child: redis, port } = await startRedis());
  const env = (node) => ({
    HERALD_REDIS: `127.0.0.1:${port}`,
    HERALD_NODE: node,
    HERALD_SESSIONS: "1",
    HERALD_RECOVERY: "1",
  });
  [nodeA, nodeB] = await Promise.all([startServer(env("web-a")), startServer(env("web-b"))]);
  for (const node of [nodeA, nodeB]) {
    const s = await connected(node.client("/", { transports: ["websocket"] }));
    assert.equal(await ask(s, "wait-nodes", 2), 2);
    s.disconnect();
  }
});

after(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  redis?.kill("SIGKILL");
});

/** What the worker does: one channel publication through node B's publish API (docs/sessions.md). */
async function publish(event, args) {
  const res = await fetch(nodeB.url + "/sessions-test/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "channel", to: ["ticker"], event, args }),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  assert.equal(res.status, 200);
}

async function newClient() {
  const res = await fetch(nodeA.url + "/sessions-test/session", { signal: AbortSignal.timeout(TIMEOUT) });
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const session = await res.text();
  const socket = io(nodeA.url, {
    forceNew: true,
    transports: ["websocket"],
    extraHeaders: { cookie },
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    randomizationFactor: 0,
  });
  const client = { socket, session, numbers: [], offsets: new Set(), connects: 0 };
  socket.on("connect", () => client.connects++);
  socket.on("tick", (n, channel, offset) => {
    assert.equal(channel, "ticker");
    client.numbers.push(n);
    client.offsets.add(offset);
  });
  await connected(socket);
  assert.deepEqual(await ask(socket, "sessions:subscribe", ["ticker"]), ["ticker"]);
  client.id = socket.id;
  client.end = once(socket, "tick-end", 6 * TIMEOUT);
  return client;
}

test("a node killed with SIGKILL under load: its clients recover on the other node with their session channels and every message once", async () => {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, newClient));
  const reconnected = clients.map((c) => once(c.socket, "connect", 6 * TIMEOUT));

  for (let i = 1; i <= COUNT; i++) {
    await publish("tick", [i]);
    if (i === KILL_AT) {
      for (const c of clients) c.socket.io.uri = nodeB.url; // where the load balancer sends them next
      nodeA.kill();
    }
  }
  await Promise.all(reconnected);
  await publish("tick-end", []);
  await Promise.all(clients.map((c) => c.end));

  const expected = Array.from({ length: COUNT }, (_, i) => i + 1);
  for (const c of clients) {
    const summary = `client ${c.id}: recovered=${c.socket.recovered} connects=${c.connects} received=${c.numbers.length}`;
    assert.equal(c.socket.recovered, true, summary);
    assert.equal(c.connects, 2, summary);
    assert.equal(c.socket.id, c.id, "the same socket id after the recovery");
    assert.deepEqual(c.numbers, expected, `${summary}: every number once, in order`);
    assert.equal(c.offsets.size, COUNT, "one distinct offset per message");
    const who = await ask(c.socket, "sessions:whoami");
    assert.equal(who.session, c.session, "the same session, now on node B");
    assert.deepEqual(await ask(c.socket, "sessions:subscribe", []), ["ticker"], "the session's channels survived the node");
  }

  // Live on B: a publication after the recovery reaches every client once.
  const live = clients.map((c) => once(c.socket, "tick"));
  await publish("tick", [COUNT + 1]);
  for (const args of await Promise.all(live)) assert.equal(args[0], COUNT + 1);
  for (const c of clients) c.socket.disconnect();
});
