// Events, acks both ways with timeouts, binary both ways, rooms and broadcast semantics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, once, connected, collect, ask, askAll } from "./harness.js";

let server;
before(async () => (server = await startServer()));
after(async () => server?.stop());

const ws = { transports: ["websocket"] };

test("client to server ack with several arguments", async () => {
  const s = await connected(server.client("/", ws));
  assert.deepEqual(await askAll(s, "echo", 1, "two", { three: [3] }, null, true), [1, "two", { three: [3] }, null, true]);
});

test("client ack timeout when the server never acks", async () => {
  const s = await connected(server.client("/", ws));
  await assert.rejects(s.timeout(200).emitWithAck("never-ack"), /operation has timed out/);
});

test("server to client ack, and its timeout", async () => {
  const s = await connected(server.client("/", ws));
  s.on("question", (q, ack) => ack("answer to " + q));
  assert.deepEqual(await ask(s, "ask-client", { event: "question", timeoutMs: 2000 }), { ok: true, reply: "answer to question" });
  s.on("silent", () => {}); // never acks
  assert.deepEqual(await ask(s, "ask-client", { event: "silent", timeoutMs: 200 }), { ok: false, error: "timeout" });
});

test("server emits to the client", async () => {
  const s = await connected(server.client("/", ws));
  const got = once(s, "pushed");
  s.emit("emit-back", "pushed", { n: 7 }, "x");
  assert.deepEqual(await got, [{ n: 7 }, "x"]);
});

for (const transports of [["websocket"], ["polling"]]) {
  test(`binary both ways over ${transports[0]}`, async () => {
    const s = await connected(server.client("/", { transports }));
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const back = await ask(s, "echo-binary", bytes);
    assert.ok(Buffer.isBuffer(back) || back instanceof ArrayBuffer, "a binary arrives as binary");
    assert.deepEqual(Buffer.from(back), bytes);
    const nested = await ask(s, "echo-nested", { name: "f.bin", file: Buffer.from("hello") });
    assert.equal(nested.name, "f.bin");
    assert.equal(Buffer.from(nested.file).toString(), "hello");
    assert.equal(nested.size, 5);
  });
}

async function fence(...sockets) {
  // The server emits "fence" to every socket of "/" after the broadcast under test; messages on one
  // connection are ordered, so anything not received before the fence was not sent.
  const waits = sockets.map((s) => once(s, "fence"));
  await ask(sockets[0], "fence-all");
  await Promise.all(waits);
}

test("rooms: union without duplicates, except, and room membership", async () => {
  const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => connected(server.client("/", ws))));
  const room = "r" + Math.random();
  await ask(a, "join", [room + "1"]);
  await ask(b, "join", [room + "1", room + "2"]);
  const rooms = await ask(c, "join", [room + "2", room + "3"]);
  assert.deepEqual(new Set(rooms), new Set([c.id, room + "2", room + "3"]));
  const got = [a, b, c, d].map((s) => collect(s, "news"));
  await ask(d, "to", { to: [room + "1", room + "2"], except: [room + "3"], event: "news", data: "hi" });
  await fence(a, b, c, d);
  assert.equal(got[0].length, 1, "a in r1");
  assert.equal(got[1].length, 1, "b in r1 and r2 gets it once");
  assert.equal(got[2].length, 0, "c is in the excepted room");
  assert.equal(got[3].length, 0, "d is in no target room");
  await ask(b, "leave", room + "1");
  await ask(d, "to", { to: [room + "1"], except: [], event: "news", data: "again" });
  await fence(a, b, c, d);
  assert.equal(got[0].length, 2);
  assert.equal(got[1].length, 1, "b left r1");
});

test("socket.to(room) and broadcast exclude the sender", async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => connected(server.client("/", ws))));
  const room = "s" + Math.random();
  await Promise.all([a, b].map((s) => ask(s, "join", [room])));
  const got = [a, b, c].map((s) => collect(s, "room-msg"));
  await ask(a, "broadcast-room", { room, data: "from a" });
  await fence(a, b, c);
  assert.deepEqual(got.map((g) => g.length), [0, 1, 0]);
  const all = [a, b, c].map((s) => collect(s, "all-msg"));
  await ask(a, "broadcast-all", "to everyone else");
  await fence(a, b, c);
  assert.deepEqual(all.map((g) => g.length), [0, 1, 1]);
});

test("a socket is in its own id's room", async () => {
  const [a, b] = await Promise.all([1, 2].map(() => connected(server.client("/", ws))));
  const got = once(b, "direct");
  await ask(a, "to", { to: [b.id], except: [], event: "direct", data: "just b" });
  assert.deepEqual(await got, ["just b"]);
});

test("broadcast with acks collects every response, and times out with the partial ones", async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => connected(server.client("/", ws))));
  const room = "k" + Math.random();
  await Promise.all([a, b, c].map((s) => ask(s, "join", [room])));
  for (const s of [a, b]) s.on("question", (ack) => ack(s.id));
  c.on("question", (ack) => ack(c.id));
  const full = await ask(a, "ask-room", { room, timeoutMs: 2000 });
  assert.equal(full.ok, true);
  assert.deepEqual(new Set(full.replies), new Set([a.id, b.id, c.id]));
  c.off("question");
  c.on("question", () => {}); // c stops answering
  const partial = await ask(a, "ask-room", { room, timeoutMs: 300 });
  assert.equal(partial.ok, false);
  assert.deepEqual(new Set(partial.replies), new Set([a.id, b.id]));
});
