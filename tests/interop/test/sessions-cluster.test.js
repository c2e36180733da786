// Herald sessions on two nodes sharing a real redis-server (Redis bus + Redis session store), with the official
// socket.io-client sending the herald.sid cookie: a reconnect to the OTHER node is re-subscribed, and a worker that
// is a separate process — here redis-cli, i.e. any non-.NET system — publishes to a channel and a user with the
// documented envelope JSON. No sleeps: every wait is on an event with a timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startServer, once, connected, ask, TIMEOUT, startRedis } from "./harness.js";

let redis, port, web1, web2;

before(async () => {
  ({ child: redis, port } = await startRedis());
  const env = (node) => ({ HERALD_REDIS: `127.0.0.1:${port}`, HERALD_NODE: node, HERALD_SESSIONS: "1" });
  [web1, web2] = await Promise.all([startServer(env("web-server-1")), startServer(env("web-server-2"))]);
});

after(async () => {
  await Promise.all([web1?.stop(), web2?.stop()]);
  redis?.kill("SIGTERM");
});

/** redis-cli PUBLISH of a Socket.IO broadcast envelope (docs/wire-format.md) to reserved rooms (docs/sessions.md). */
async function cliPublish(rooms, data) {
  const envelope = { v: 1, source: "cron-worker", kind: "broadcast", nsp: "/", rooms, packet: { type: 2, data } };
  await promisify(execFile)("redis-cli", ["-p", String(port), "PUBLISH", "herald:sio:/", JSON.stringify(envelope)], { timeout: TIMEOUT });
}

test("a reconnect to the other node with the same cookie is re-subscribed; a separate worker process reaches it", async () => {
  const res = await fetch(web1.url + "/sessions-test/session", { signal: AbortSignal.timeout(TIMEOUT) });
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const session = await res.text();

  const first = await connected(web1.client("/", { extraHeaders: { cookie } }));
  assert.deepEqual(await ask(first, "sessions:subscribe", ["disney"]), ["disney"]);
  assert.equal(await ask(first, "sessions:login", "fred"), true);
  first.disconnect();

  const again = await connected(web2.client("/", { extraHeaders: { cookie }, transports: ["websocket"] }));
  assert.equal((await ask(again, "sessions:whoami")).session, session);

  const chat = once(again, "chatMessage");
  await cliPublish(["herald:ch:disney"], ["chatMessage", { from: "cron" }, "disney"]);
  assert.deepEqual(await chat, [{ from: "cron" }, "disney"]);

  const offer = once(again, "specialOffer");
  await cliPublish(["herald:u:fred"], ["specialOffer", "for fred"]);
  assert.deepEqual(await offer, ["for fred"]);
  again.disconnect();
});
