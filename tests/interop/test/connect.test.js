// Connection, transports, namespaces, middlewares: the official socket.io-client against Herald.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, once, connected, ask, askAll } from "./harness.js";

let server;
before(async () => (server = await startServer()));
after(async () => server?.stop());

test("default transports: polling then upgrade to websocket", async () => {
  const s = server.client("/", { autoConnect: false });
  const opened = once(s.io, "open");
  s.connect();
  await opened;
  assert.equal(s.io.engine.transport.name, "polling", "the session opens over polling");
  const upgraded = once(s.io.engine, "upgrade");
  await connected(s);
  await upgraded;
  assert.equal(s.io.engine.transport.name, "websocket");
  assert.deepEqual(await askAll(s, "echo", "after upgrade", 42), ["after upgrade", 42]);
});

test("polling only", async () => {
  const s = await connected(server.client("/", { transports: ["polling"] }));
  assert.equal(s.io.engine.transport.name, "polling");
  assert.deepEqual(await askAll(s, "echo", { a: 1 }, "b"), [{ a: 1 }, "b"]);
});

test("websocket only", async () => {
  const s = await connected(server.client("/", { transports: ["websocket"] }));
  assert.equal(s.io.engine.transport.name, "websocket");
  assert.equal(await ask(s, "echo", "x"), "x");
});

test("auth payload and query reach the handshake", async () => {
  const s = await connected(server.client("/", { auth: { token: "good", name: "ada" }, query: { q: "1" } }));
  const who = await ask(s, "whoami");
  assert.equal(who.id, s.id);
  assert.deepEqual(who.auth, { token: "good", name: "ada" });
  assert.equal(who.query, "1");
});

test("middleware rejection is a connect_error with message and data", async () => {
  const s = server.client("/", { auth: { token: "bad" } });
  const [err] = await once(s, "connect_error");
  assert.equal(err.message, "unauthorized");
  assert.deepEqual(err.data, { code: 401 });
  assert.equal(s.connected, false);
});

test("namespace middleware rejection", async () => {
  const s = server.client("/admin");
  const [err] = await once(s, "connect_error");
  assert.equal(err.message, "forbidden");
});

test("unknown namespace is refused with Invalid namespace", async () => {
  const s = server.client("/nope");
  const [err] = await once(s, "connect_error");
  assert.equal(err.message, "Invalid namespace");
});

test("main and custom namespaces multiplexed on one connection", async () => {
  const main = server.client("/", { forceNew: true });
  await connected(main);
  const custom = main.io.socket("/custom");
  const hello = once(custom, "hello-custom");
  custom.connect();
  await connected(custom);
  assert.equal(main.io.engine.id, custom.io.engine.id, "one Engine.IO session for both namespaces");
  assert.deepEqual(await hello, ["/custom"]);
  assert.equal(await ask(custom, "echo", "in custom"), "custom:in custom");
  assert.equal(await ask(main, "echo", "in main"), "in main");
  custom.disconnect();
});

test("dynamic namespace by regex", async () => {
  const s = server.client("/dyn-42");
  const [name] = await once(s, "hello-dyn");
  assert.equal(name, "/dyn-42");
});

test("server disconnect: reason io server disconnect, no reconnection", async () => {
  const s = await connected(server.client("/", { reconnection: true }));
  const gone = once(s, "disconnect");
  s.emit("disconnect-me");
  const [reason] = await gone;
  assert.equal(reason, "io server disconnect");
  assert.equal(s.active, false);
});

test("client reconnection after the transport drops", async () => {
  const s = await connected(server.client("/", { reconnection: true, reconnectionDelay: 50, transports: ["websocket"] }));
  const firstId = s.id;
  const gone = once(s, "disconnect");
  s.emit("drop-transport"); // the server closes the Engine.IO session, no Socket.IO DISCONNECT
  const [reason] = await gone;
  assert.equal(reason, "transport close");
  await once(s, "connect");
  assert.notEqual(s.id, firstId);
  assert.equal(await ask(s, "echo", "again"), "again");
});
