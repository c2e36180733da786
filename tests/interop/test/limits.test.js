// Per-connection CONNECT limits (SocketIOOptions.ConnectRateLimit, MaxNamespacesPerConnection; defaults: 10/s burst
// 100, 100 namespaces) as the official client sees them: a connect_error on the namespace past the limit, the
// connection and its other namespaces untouched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { startServer, once, connected } from "./harness.js";

let server;
before(async () => (server = await startServer()));
after(async () => server?.stop());

test("one connection opening namespace 101: connect_error 'Too many namespace…', the other 100 stay connected", async () => {
  const manager = new Manager(server.url, { reconnection: false, transports: ["websocket"] });
  try {
    const sockets = [];
    for (let i = 0; i < 100; i++) sockets.push(manager.socket(`/dyn-${i}`));
    await Promise.all(sockets.map((s) => connected(s)));
    assert.equal(new Set(sockets.map((s) => s.id)).size, 100);

    // The 101st CONNECT finds either no token left (the burst is 100) or, when one refilled meanwhile, no place
    // left (100 namespaces): either way the client surfaces the server's message as connect_error.
    const extra = manager.socket("/dyn-100");
    const [err] = await once(extra, "connect_error");
    assert.match(err.message, /^Too many namespace(s| connects)$/);
    assert.equal(extra.connected, false);
    assert.ok(sockets.every((s) => s.connected), "the other namespaces stay connected");

    assert.equal(manager.engine.readyState, "open", "the Engine.IO connection stays open");
  } finally {
    manager.engine?.close();
  }
});
