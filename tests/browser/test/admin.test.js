// The dashboard (/admin) in headless Chromium while two demo pages are connected: it shows the cluster, the
// namespaces and rooms with their sizes, the sockets with their handshake, the SSE clients and a live
// messages/s chart; its actions make a socket leave a room and disconnect it, and the demo pages see it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startHub, launchBrowser, newPage, openDemo, shots } from "../support.js";

const KEY = "browser-test-key-0123456789";
let hub, browser;
const pageErrors = [];

before(async () => {
  hub = await startHub([`--Herald:ApiKeys:0=${KEY}`, "--Herald:NodeName=hub-browser", "--Herald:Demo:Enabled=true"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  hub?.stop();
});

// The dashboard row of the socket whose data shows name n (evaluated in the page: eval(rowOf)("erin")).
const rowOf = `(n) => [...document.querySelectorAll("#sockets tbody tr")].find((tr) => tr.textContent.includes('"name":"' + n + '"'))`;

test("the dashboard shows the connections and its actions reach the pages", async () => {
  const erin = await openDemo(browser, hub.url, "erin", pageErrors);
  const frank = await openDemo(browser, hub.url, "frank", pageErrors);
  await erin.fill("#text", "hello dashboard");
  await erin.click("#say-form button");
  await frank.waitForFunction(() => document.getElementById("log").textContent.includes("erin: hello dashboard"), null, { timeout: 10_000 });

  const admin = await newPage(browser, "admin", pageErrors);
  await admin.goto(hub.url + "/admin/");
  await admin.waitForSelector("#login:not([hidden])", { timeout: 10_000 }); // no key yet: 401, the login form
  await admin.fill("#key", KEY);
  await admin.click("#login button");

  // Cluster, namespaces, rooms and sizes, sockets with handshake data, SSE clients.
  await admin.waitForFunction(() => document.getElementById("node").textContent === "node hub-browser", null, { timeout: 10_000 });
  assert.equal(await admin.textContent("#servers"), "1");
  await admin.waitForFunction(() => [...document.querySelectorAll("#namespaces tbody tr")]
    .some((tr) => tr.dataset.ns === "/chat" && tr.textContent.includes("lobby (2)")), null, { timeout: 10_000 });
  await admin.waitForFunction((f) => eval(f)("erin") && eval(f)("frank"), rowOf, { timeout: 10_000 });
  assert.match(await admin.evaluate((f) => eval(f)("erin").textContent, rowOf), /\/chat/);
  await admin.waitForFunction(() => document.querySelectorAll("#sse tbody tr").length >= 2, null, { timeout: 10_000 });

  // The live chart: the chat above and a few more messages make the "out" total grow between polls.
  const outBefore = Number(await admin.evaluate(() => document.getElementById("rate").dataset.out || "0"));
  for (let i = 0; i < 3; i++) {
    await frank.fill("#text", `burst ${i}`);
    await frank.click("#say-form button");
  }
  await admin.waitForFunction((b) => Number(document.getElementById("rate").dataset.out || "0") > b, outBefore, { timeout: 10_000 });
  await admin.waitForFunction(() => /now: [\d.]+ in, [\d.]+ out/.test(document.getElementById("rate-label").textContent), null, { timeout: 10_000 });
  await admin.screenshot({ path: path.join(shots, "admin-dashboard.png"), fullPage: true });

  // Make frank leave lobby: his row loses the room, and erin's messages no longer reach him.
  await admin.evaluate((f) => eval(f)("frank").querySelector('button.leave[data-room="chat:lobby"]').click(), rowOf);
  await admin.waitForFunction((f) => { const r = eval(f)("frank"); return r && !r.querySelector('button.leave[data-room="chat:lobby"]'); }, rowOf, { timeout: 10_000 });
  await admin.waitForFunction(() => [...document.querySelectorAll("#namespaces tbody tr")]
    .some((tr) => tr.dataset.ns === "/chat" && tr.textContent.includes("lobby (1)")), null, { timeout: 10_000 });

  // Disconnect erin: her page says so, and her row goes away.
  await admin.evaluate((f) => eval(f)("erin").querySelector("button.disconnect").click(), rowOf);
  await erin.waitForFunction(() => document.getElementById("status").textContent === "disconnected: io server disconnect", null, { timeout: 10_000 });
  await admin.waitForFunction((f) => !eval(f)("erin"), rowOf, { timeout: 10_000 });
  await admin.screenshot({ path: path.join(shots, "admin-after-actions.png"), fullPage: true });
  await erin.screenshot({ path: path.join(shots, "demo-disconnected-by-admin.png") });
  assert.deepEqual(pageErrors, []);
});
