// Shared by the page tests: starts the built hub (Herald.Server.dll) on a free port, launches Debian's chromium
// headless through playwright-core, and opens the pages as they are: every request that does not go to the hub is
// refused, so a page that needs the internet (a CDN) fails here. The browser client comes from the hub
// (/socket.io/socket.io.min.js, SocketIOOptions.ServeClient). Screenshots go to
// artifacts/test-results/screenshots/ (gitignored, kept by CI).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url)); // tests/browser
export const root = path.resolve(here, "../..");
export const shots = path.join(root, "artifacts/test-results/screenshots");

function hubDll() {
  for (const cfg of ["Release", "Debug"]) {
    const dll = path.join(root, `src/Herald.Server/bin/${cfg}/net10.0/Herald.Server.dll`);
    if (existsSync(dll)) return dll;
  }
  throw new Error("Herald.Server is not built: run `dotnet build Herald.slnx -c Release` first");
}

/** Starts the hub with extra command-line settings; resolves { url, stop, output() }. */
export async function startHub(settings = []) {
  mkdirSync(shots, { recursive: true });
  const hub = spawn("dotnet", [hubDll(), "--urls", "http://127.0.0.1:0", ...settings], {
    cwd: path.join(root, "src/Herald.Server"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
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
  return { url, stop: () => hub.kill("SIGTERM"), output: () => output };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/** Refuses every request of `context` that does not go to 127.0.0.1 (the hub): the tests run offline. */
export async function offline(context, blocked = []) {
  await context.route((url) => url.hostname !== "127.0.0.1", (route) => {
    blocked.push(route.request().url());
    return route.abort("internetdisconnected");
  });
}

/** A new page (own context), offline but for the hub; page errors go to `errors`. */
export async function newPage(browser, name, errors) {
  const context = await browser.newContext();
  await offline(context);
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  return page;
}

/** Opens the demo as `name`, joined to lobby. */
export async function openDemo(browser, url, name, errors) {
  const page = await newPage(browser, name, errors);
  await page.goto(url + "/");
  await page.fill("#name", name);
  await page.click("#join-form button");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("connected"), null, { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById("rooms").textContent.includes("lobby"), null, { timeout: 10_000 });
  return page;
}
