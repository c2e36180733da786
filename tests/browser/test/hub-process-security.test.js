// Issue 13's critical finding, end to end against the hub PROCESS (the built Herald.Server.dll, as users run it):
// an unauthenticated `curl -N '/events?lastEventId=a-1.herald:u:carol'` must receive nothing that the publish API
// sends to user carol, and `a-1.herald:ch:board` nothing sent to channel board. Carol is a real socket.io-client
// connection identified by a backend-signed token (Herald:Identity), so the publications demonstrably go out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { io } from "socket.io-client";
import { startHub } from "../support.js";

const secret = "hub-process-security-test-secret-0123456789";
const apiKey = "hub-process-security-api-key-0123";
let hub;

before(async () => {
  hub = await startHub([`--Herald:Identity:HmacSecret=${secret}`, `--Herald:ApiKeys:0=${apiKey}`]);
});
after(() => hub?.stop());

const b64url = (x) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");
function sign(claims) {
  const body = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ exp: Math.floor(Date.now() / 1000) + 300, ...claims })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

async function post(path, body) {
  const res = await fetch(hub.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-herald-key": apiKey },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
}

/** An EventSource as curl -N would open it: reads events as they come; next() resolves the next one (10 s bound). */
async function openStream(path, headers = {}) {
  const controller = new AbortController();
  const res = await fetch(hub.url + path, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  const events = [];
  const waiters = [];
  const push = (e) => (waiters.length ? waiters.shift()(e) : events.push(e));
  (async () => {
    const decoder = new TextDecoder();
    let text = "";
    try {
      for await (const chunk of res.body) {
        text += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = { type: "message", data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event.type = line.slice(6).trim();
            else if (line.startsWith("data:")) event.data += line.slice(5).trim();
          }
          if (!block.startsWith(":")) push(event);
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    status: res.status,
    next: () => events.length ? Promise.resolve(events.shift()) : new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no event on ${path} within 10 s`)), 10_000);
      waiters.push((e) => { clearTimeout(t); resolve(e); });
    }),
    close: () => controller.abort(),
  };
}

test("a forged Last-Event-ID naming a user or channel room receives none of their events (hub process)", async () => {
  const carol = io(hub.url, { transports: ["websocket"], auth: { token: sign({ sub: "carol", channels: ["board"] }) } });
  const received = [];
  carol.onAny((event, ...args) => received.push([event, ...args]));
  await new Promise((resolve, reject) => { carol.on("connect", resolve); carol.on("connect_error", reject); });

  const asUser = await openStream("/events?lastEventId=a-1.herald:u:carol");
  const asChannel = await openStream("/events", { "last-event-id": "a-1.herald:ch:board" });
  try {
    for (const attacker of [asUser, asChannel]) {
      assert.equal(attacker.status, 200);
      const open = await attacker.next();
      assert.equal(open.type, "herald:open");
      assert.doesNotMatch(open.data, /herald:/, "the attacker was given a reserved name as its id");
    }

    await post("/api/user", { users: ["carol"], event: "mail", args: ["for carol only"] });
    await post("/api/channel", { channels: ["board"], event: "post", args: ["for the board only"] });
    await post("/api/sse", { event: "marker", data: "everyone" });

    // Carol got both (so they went out)...
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`carol received ${JSON.stringify(received)} within 10 s`)), 10_000);
      const check = () => { if (received.length >= 2) { clearTimeout(t); resolve(); } };
      carol.onAny(check); // after the recording listener: it sees the event already counted
      check();
    });
    assert.deepEqual(received.map((r) => r[0]).sort(), ["mail", "post"]);

    // ...and each attacker's next event (after herald:missed for its unknown id) is the public marker, nothing else.
    for (const attacker of [asUser, asChannel]) {
      let event = await attacker.next();
      if (event.type === "herald:missed") event = await attacker.next();
      assert.deepEqual([event.type, event.data], ["marker", "everyone"]);
    }

    // A reserved room asked for as a topic is refused outright.
    const asTopic = await openStream("/events?topic=herald:u:carol");
    assert.equal(asTopic.status, 400);
    asTopic.close();
  } finally {
    asUser.close();
    asChannel.close();
    carol.close();
  }
});
