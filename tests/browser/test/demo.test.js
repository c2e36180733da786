// The hub's demo page in two real headless Chromium pages: they chat in a room through Herald, and the
// page's live feed (an EventSource on /events) shows the chat and the server clock. See support.js for how the
// hub and the browser are started; screenshots go to artifacts/test-results/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startHub, launchBrowser, openDemo as open, shots } from "../support.js";

let hub, url, browser;
const pageErrors = [];

before(async () => {
  // A 1 s clock (5 s by default) so the feed test sees ticks quickly.
  hub = await startHub(["--Herald:Demo:Enabled=true", "--Herald:Demo:ClockInterval=00:00:01"]);
  url = hub.url;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  hub?.stop();
});

const openDemo = (name) => open(browser, url, name, pageErrors);

test("two pages chat in a room", async () => {
  const alice = await openDemo("alice");
  const bob = await openDemo("bob");
  await alice.fill("#text", "hello from alice");
  await alice.click("#say-form button");
  await bob.waitForFunction(() => document.getElementById("log").textContent.includes("alice: hello from alice"), null, { timeout: 10_000 });
  await alice.waitForFunction(() => document.getElementById("log").textContent.includes("alice: hello from alice"), null, { timeout: 10_000 });
  await bob.fill("#text", "hi alice");
  await bob.click("#say-form button");
  await alice.waitForFunction(() => document.getElementById("log").textContent.includes("bob: hi alice"), null, { timeout: 10_000 });
  await alice.screenshot({ path: path.join(shots, "demo-alice.png") });
  await bob.screenshot({ path: path.join(shots, "demo-bob.png") });
  const status = await bob.textContent("#status");
  assert.match(status, /connected \((polling|websocket)\)/);
  assert.deepEqual(pageErrors, []);
});

test("the live feed over Server-Sent Events shows chat messages and clock ticks", async () => {
  const carol = await openDemo("carol");
  await carol.waitForFunction(() => document.getElementById("sse-status").textContent.startsWith("SSE open"), null, { timeout: 10_000 });
  const ticks = await carol.evaluate(() => Number(document.getElementById("clock").dataset.ticks));
  // The feed updates by itself: two more clock events arrive (1 s apart in this test's hub).
  await carol.waitForFunction((t) => Number(document.getElementById("clock").dataset.ticks) >= t + 2, ticks, { timeout: 10_000 });
  assert.match(await carol.textContent("#clock"), /server clock: .+ · \d+ SSE client\(s\)/);

  // A chat message said by another page reaches carol's feed through SSE (topic "chat"), whatever the room.
  const dave = await openDemo("dave");
  await dave.fill("#room", "elsewhere");
  await dave.click("#join-form button");
  await dave.waitForFunction(() => document.getElementById("rooms").textContent.includes("elsewhere"), null, { timeout: 10_000 });
  await dave.fill("#text", "pushed over SSE");
  await dave.click("#say-form button");
  await carol.waitForFunction(() => document.getElementById("feed").textContent.includes("[elsewhere] dave: pushed over SSE"), null, { timeout: 10_000 });
  // carol is not in "elsewhere": her Socket.IO chat log did not get it, only the SSE feed did.
  assert.ok(!(await carol.textContent("#log")).includes("pushed over SSE"));
  await carol.screenshot({ path: path.join(shots, "demo-sse-feed.png") });
  assert.deepEqual(pageErrors, []);
});

// Issue 15: the pages used to load socket.io-client from a CDN (offline, or behind a strict CSP: "io is not defined",
// status stuck on "connecting…"), and these tests hid it by serving the bundle themselves. Now every request off the
// hub is refused and each page must work as it is, with the client the hub serves.
test("every hub page works offline: the client bundle comes from the hub, nothing else is requested", async () => {
  const { offline } = await import("../support.js");
  const context = await browser.newContext();
  const blocked = [];
  await offline(context, blocked);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const bundle = [];
  page.on("response", (r) => {
    if (r.url().includes("socket.io.min.js")) bundle.push(`${r.status()} ${r.url()}`);
  });
  for (const path of ["/", "/typed.html"]) {
    await page.goto(url + path);
    await page.waitForFunction(() => typeof io === "function", null, { timeout: 10_000 });
  }
  assert.deepEqual(blocked, [], "no request leaves the hub");
  assert.deepEqual(errors, []);
  assert.ok(bundle.length >= 1 && bundle.every((b) => b.startsWith("200 " + url + "/socket.io/socket.io.min.js")), bundle.join(", "));
  await context.close();
});
