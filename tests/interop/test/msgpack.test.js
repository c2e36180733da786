// socket.io-msgpack-parser 3.0.2 clients (issue 15) against an endpoint configured with SocketIOParser.MessagePack
// (the interop server's /msgpack/): connect on every transport, events and acks both ways, binary inline, rooms,
// namespaces with auth, and the same protocol-error handling as the default parser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import parser from "socket.io-msgpack-parser";
import { startServer, once, connected, ask, askAll, TIMEOUT } from "./harness.js";

let server;
const clients = [];
before(async () => (server = await startServer()));
after(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

function client(nsp = "/", opts = {}) {
  const s = io(server.url + nsp, { path: "/msgpack/", parser, forceNew: true, reconnection: false, ...opts });
  clients.push(s);
  return s;
}

for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  test(`connects and echoes with acks over ${transports.join(" then ")}`, async () => {
    const s = client("/", { transports, autoConnect: false });
    const hello = once(s, "hello");
    s.connect();
    await connected(s);
    const [h] = await hello;
    assert.equal(h.id, s.id);
    assert.deepEqual([...h.bytes], [1, 2, 3], "binary inline in a server emit");
    assert.equal(h.n, 1.5);
    assert.equal(h.big, 2 ** 40);
    assert.equal(h.neg, -7);
    assert.equal(h.nothing, null);
    assert.deepEqual(await askAll(s, "echo", { a: [1, "two", true, null] }, "x", 3.25), [{ a: [1, "two", true, null] }, "x", 3.25]);
    const reply = await ask(s, "echo-binary", Buffer.from([7, 8, 9]));
    assert.deepEqual([...reply], [7, 8, 9]);
  });
}

test("an ArrayBuffer (notepack's ext 0) arrives as bytes too", async () => {
  const s = await connected(client("/", { transports: ["websocket"] }));
  const reply = await ask(s, "echo-binary", new Uint8Array([5, 6]).buffer);
  assert.deepEqual([...reply], [5, 6]);
});

test("the server asks the client with an ack", async () => {
  const s = await connected(client("/", { transports: ["websocket"] }));
  s.on("q", (text, ack) => ack("answer to " + text));
  assert.equal(await ask(s, "ask-client", "q"), "answer to question");
});

test("a room broadcast with binary reaches the other member, not the sender", async () => {
  const a = await connected(client("/", { transports: ["websocket"] }));
  const b = await connected(client("/", { transports: ["polling"] }));
  await ask(a, "join", "r1");
  await ask(b, "join", "r1");
  let echoed = false;
  a.on("room-msg", () => (echoed = true));
  const got = once(b, "room-msg");
  await ask(a, "broadcast-room", { room: "r1", data: { text: "hi" } });
  const [data, bytes] = await got;
  assert.deepEqual(data, { text: "hi" });
  assert.deepEqual([...bytes], [9, 9]);
  assert.equal(await ask(a, "echo", "fence"), "fence");
  assert.equal(echoed, false);
});

test("a custom namespace with auth", async () => {
  const s = client("/custom", { transports: ["websocket"], auth: { token: "t" } });
  const hello = once(s, "hello-custom");
  await connected(s);
  assert.deepEqual(await hello, ["/custom", { token: "t" }]);
});

test("an unknown namespace is refused with connect_error, as with the default parser", async () => {
  const s = client("/nope", { transports: ["websocket"] });
  const [err] = await once(s, "connect_error");
  assert.equal(err.message, "Invalid namespace");
});

test("more than MaxAttachments binary values close the connection (protocol error)", async () => {
  const s = await connected(client("/", { transports: ["websocket"] }));
  const closed = once(s, "disconnect");
  s.emit("echo", ...Array.from({ length: 11 }, (_, i) => Buffer.from([i])));
  const [reason] = await closed;
  assert.equal(reason, "transport close");
});

test("a default-parser client on the MessagePack endpoint does not connect (text is a protocol error)", async () => {
  const s = io(server.url, { path: "/msgpack/", forceNew: true, reconnection: false, transports: ["websocket"], timeout: 3000 });
  clients.push(s);
  const outcome = await Promise.race([
    once(s, "connect").then(() => "connected"),
    once(s, "disconnect").then(() => "closed"),
    once(s, "connect_error").then(() => "refused"),
  ]);
  assert.notEqual(outcome, "connected");
});
