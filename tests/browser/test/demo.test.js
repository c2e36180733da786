// The hub's demo page in two real headless Chromium pages: they chat in a room through Herald, and the
// page's live feed (an EventSource on /events) shows the chat and the server clock.
// The page loads the official browser client from a CDN; here that URL is served from node_modules,
// so the test needs no network. Screenshots go to artifacts/browser/ (kept by CI).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const shots = path.join(root, "artifacts/browser");
const clientBundle = readFileSync(path.join(here, "../node_modules/socket.io-client/dist/socket.io.min.js"));

function hubDll() {
  for (const cfg of ["Release", "Debug"]) {
    const dll = path.join(root, `src/Herald.Server/bin/${cfg}/net10.0/Herald.Server.dll`);
    if (existsSync(dll)) return dll;
  }
  throw new Error("Herald.Server is not built: run `dotnet build Herald.slnx -c Release` first");
}

let hub, url, browser, output = "";
const pageErrors = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  // A 1 s clock (5 s by default) so the feed test sees ticks quickly.
  hub = spawn("dotnet", [hubDll(), "--urls", "http://127.0.0.1:0", "--Herald:Demo:ClockInterval=00:00:01"], {
    cwd: path.join(root, "src/Herald.Server"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("hub did not start:\n" + output)), 30_000);
    const on = (c) => {
      output += c;
      const m = /Now listening on: (http:\/\/[^\s]+)/.exec(output);
      if (m) { clearTimeout(t); resolve(m[1]); }
    };
    hub.stdout.on("data", on);
    hub.stderr.on("data", (c) => (output += c));
    hub.on("exit", (code) => reject(new Error(`hub exited ${code}:\n${output}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  hub?.kill("SIGTERM");
});

async function openDemo(name) {
  const context = await browser.newContext();
  await context.route(/socket\.io(\.min)?\.js$/, (route) =>
    route.fulfill({ status: 200, contentType: "application/javascript", body: clientBundle }));
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(url + "/");
  await page.fill("#name", name);
  await page.click("#join-form button");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("connected"), null, { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById("rooms").textContent.includes("lobby"), null, { timeout: 10_000 });
  return page;
}

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
