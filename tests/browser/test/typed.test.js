// The hub's sessions page (typed.html) in real headless Chromium: two tabs of one browser context share the
// herald.sid cookie, so a channel joined in one tab is joined in both (and in their EventSources); a second browser
// context is another session. Typed messages go to the tab that subscribed with herald:subscribe, and to the
// EventSources subscribed with query parameters. Offline: the page as it is, its client from the hub.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { offline } from "../support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const T = { timeout: 10_000 };

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
  hub = spawn("dotnet", [hubDll(), "--urls", "http://127.0.0.1:0", "--Herald:Demo:Enabled=true"], { cwd: path.join(root, "src/Herald.Server"), stdio: ["ignore", "pipe", "pipe"] });
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

async function newBrowserContext() {
  const context = await browser.newContext();
  await offline(context);
  return context;
}

async function openTab(context, name) {
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(url + "/typed.html");
  await page.waitForFunction(() => document.getElementById("who").textContent.startsWith("socket"), null, T);
  return page;
}

const logHas = (page, text) => page.waitForFunction((t) => document.getElementById("log").textContent.includes(t), text, T);
const who = (page) => page.evaluate(() => document.getElementById("who").textContent);

test("two tabs share a session and its channels; typed messages reach the subscribers", async () => {
  const one = await newBrowserContext();
  const other = await newBrowserContext();
  const tab1 = await openTab(one, "tab1");
  const tab2 = await openTab(one, "tab2");
  const stranger = await openTab(other, "stranger");
  const session = (text) => text.split("session ")[1];
  assert.equal(session(await who(tab1)), session(await who(tab2)));
  assert.notEqual(session(await who(tab1)), session(await who(stranger)));

  await tab1.fill("#channel", "disney");
  await tab1.click("#join");
  await tab1.waitForFunction(() => document.getElementById("channels").textContent === "disney", null, T);
  await tab2.fill("#channel", "disney");
  await tab2.fill("#text", "Has anyone seen Tom?");
  await tab2.click("#say");
  for (const tab of [tab1, tab2]) {
    await logHas(tab, "[disney]");
    await logHas(tab, "(sse) chatMessage");
  }

  await tab1.click("#sub");
  await logHas(tab1, 'herald:subscribe → {"ok":true}');
  await stranger.fill("#name", "Barney");
  await stranger.click("#add");
  await logHas(tab1, 'UserAdded from DemoUser:42 → {"user":{"id":"42","name":"Barney","address":{"city":"Bedrock"}}}');
  await logHas(stranger, "(sse) herald:message");
  // The stranger never joined disney; its log only has what it subscribed to.
  assert.ok(!(await stranger.evaluate(() => document.getElementById("log").textContent)).includes("[disney]"));
  assert.deepEqual(pageErrors, []);
});
