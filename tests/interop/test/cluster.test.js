// Two Herald nodes sharing a real redis-server (cluster adapter), driven with the official socket.io-client:
// room broadcasts reach members on both nodes exactly once, fetchSockets sees both nodes, broadcast acks are
// collected across nodes, and an envelope PUBLISHed with redis-cli reaches the clients.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startServer, once, connected, collect, ask, startRedis } from "./harness.js";

const ws = { transports: ["websocket"] };
let redis, port, web1, web2;

before(async () => {
  ({ child: redis, port } = await startRedis());
  [web1, web2] = await Promise.all([
    startServer({ HERALD_REDIS: `127.0.0.1:${port}`, HERALD_NODE: "web-server-1" }),
    startServer({ HERALD_REDIS: `127.0.0.1:${port}`, HERALD_NODE: "web-server-2" }),
  ]);
  // Both nodes must know each other before requests that wait for every node.
  for (const web of [web1, web2]) {
    const s = await connected(web.client("/", ws));
    assert.equal(await ask(s, "wait-nodes", 2), 2);
    s.disconnect();
  }
});

after(async () => {
  await Promise.all([web1?.stop(), web2?.stop()]);
  redis?.kill("SIGKILL");
});

async function joined(web, ...rooms) {
  const s = await connected(web.client("/", ws));
  await ask(s, "join", rooms);
  return s;
}

test("a room broadcast from one node reaches members on both nodes exactly once", async () => {
  const a = await joined(web1, "news");
  const b = await joined(web2, "news");
  const c = await joined(web2, "sports");
  const got = [a, b, c].map((s) => collect(s, "room-msg"));
  const ends = [a, b, c].map((s) => once(s, "end"));
  await ask(a, "to", { to: ["news"], except: [], event: "room-msg", data: { text: "hi" } });
  await ask(a, "to", { to: [], except: [], event: "end", data: null });
  await Promise.all(ends);
  assert.deepEqual(got[0], [[{ text: "hi" }]]);
  assert.deepEqual(got[1], [[{ text: "hi" }]]);
  assert.deepEqual(got[2], []);
  [a, b, c].forEach((s) => s.disconnect());
});

test("fetchSockets on one node lists the sockets of both nodes", async () => {
  const a = await joined(web1, "fetch-room");
  const b = await joined(web2, "fetch-room");
  const ids = await ask(b, "fetch-ids", "fetch-room");
  assert.deepEqual(ids, [a.id, b.id].sort());
  [a, b].forEach((s) => s.disconnect());
});

test("broadcast acks are collected from clients on both nodes", async () => {
  const a = await joined(web1, "ask-room");
  const b = await joined(web2, "ask-room");
  a.on("question", (ack) => ack("from-a"));
  b.on("question", (ack) => ack("from-b"));
  const reply = await ask(a, "ask-room", { room: "ask-room", timeoutMs: 5000 });
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.replies.sort(), ["from-a", "from-b"]);
  [a, b].forEach((s) => s.disconnect());
});

test("an envelope PUBLISHed with redis-cli reaches the clients of every node", async () => {
  const a = await joined(web1, "cli");
  const b = await joined(web2, "cli");
  const got = [once(a, "flash"), once(b, "flash")];
  const envelope = { v: 1, source: "erlang-1", kind: "broadcast", nsp: "/", rooms: ["cli"], packet: { type: 2, data: ["flash", "from redis-cli"] } };
  const { stdout } = await promisify(execFile)("redis-cli", ["-p", String(port), "PUBLISH", "herald:sio:/", JSON.stringify(envelope)]);
  assert.equal(stdout.trim(), "2"); // one subscriber connection per node
  assert.deepEqual(await Promise.all(got), [["from redis-cli"], ["from redis-cli"]]);
  [a, b].forEach((s) => s.disconnect());
});
