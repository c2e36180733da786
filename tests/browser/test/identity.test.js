// Users and channels with the hub (docs/identity.md) in real headless Chromium: the sample backend
// (samples/Identity) signs a connection token for the signed-in page, which then receives user- and
// channel-addressed messages over Socket.IO and SSE; a page with a forged token is refused and receives nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { root, startHub, launchBrowser, newPage, shots } from "../support.js";

const secret = "browser-test-secret-of-at-least-32-bytes";
const apiKey = "browser-test-api-key-0123456789";
const T = { timeout: 10_000 };
let hub, backend, browser;
const pageErrors = [];

function backendDll() {
  for (const cfg of ["Release", "Debug"]) {
    const dll = path.join(root, `samples/Identity/bin/${cfg}/net10.0/Herald.Samples.IdentityBackend.dll`);
    if (existsSync(dll)) return dll;
  }
  throw new Error("samples/Identity is not built: run `dotnet build Herald.slnx -c Release` first");
}

function startBackend() {
  const child = spawn("dotnet", [backendDll(), "--urls", "http://127.0.0.1:0", "--Hub:Secret=" + secret], {
    cwd: path.join(root, "samples/Identity"), stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("backend did not start:\n" + output)), 30_000);
    child.stdout.on("data", (c) => {
      output += c;
      const m = /Now listening on: (http:\/\/[^\s]+)/.exec(output);
      if (m) { clearTimeout(t); resolve({ url: m[1], stop: () => child.kill("SIGTERM") }); }
    });
    child.stderr.on("data", (c) => (output += c));
    child.on("exit", (code) => reject(new Error(`backend exited ${code}:\n${output}`)));
  });
}

/** An HS256 token signed with `key`, as an attacker without the hub's secret would make one. */
function hs256(payload, key) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = b64({ alg: "HS256", typ: "JWT" }) + "." + b64(payload);
  return body + "." + createHmac("sha256", key).update(body).digest("base64url");
}

async function api(command, body) {
  const response = await fetch(hub.url + "/api/" + command, {
    method: "POST", headers: { "content-type": "application/json", "x-herald-key": apiKey }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `${command}: ${await response.text()}`);
}

before(async () => {
  backend = await startBackend();
  hub = await startHub([
    "--Herald:ApiKeys:0=" + apiKey,
    "--Herald:Identity:HmacSecret=" + secret,
    "--Herald:Identity:Issuer=sample-backend",
    "--Herald:Identity:Audience=herald",
    "--Herald:Identity:Required=true",
    "--Herald:Cors:Origins:0=" + backend.url,
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  hub?.stop();
  backend?.stop();
});

test("a page with a token from the backend receives its user's and channels' messages; a forged token receives nothing", async () => {
  const alice = await newPage(browser, "alice", pageErrors);
  await alice.goto(`${backend.url}/login?user=alice&returnUrl=${encodeURIComponent("/?hub=" + hub.url)}`);
  await alice.waitForFunction(() => document.getElementById("socket-status").textContent === "connected", null, T)
    .catch(async (e) => { throw new Error(e.message + " status: " + await alice.textContent("#socket-status") + " url: " + alice.url() + "\n" + hub.output().slice(-3000)); });
  await alice.waitForFunction(() => document.getElementById("sse-status").textContent === "connected", null, T);

  const exp = Math.floor(Date.now() / 1000) + 600;
  const forged = hs256({ sub: "alice", channels: ["news"], iss: "sample-backend", aud: "herald", exp }, "not-the-hub-secret-but-long-enough!!");
  const mallory = await newPage(browser, "mallory", pageErrors);
  await mallory.goto(`${backend.url}/?hub=${encodeURIComponent(hub.url)}&token=${forged}`);
  await mallory.waitForFunction(() => document.getElementById("socket-status").textContent.startsWith("refused"), null, T);
  await mallory.waitForFunction(() => document.getElementById("sse-status").textContent === "refused", null, T);
  assert.equal(await mallory.textContent("#socket-status"), "refused: token_invalid_signature");

  await api("user", { users: ["alice"], event: "mail", args: [{ text: "for alice" }] });
  await api("channel", { channels: ["news"], event: "post", args: [{ title: "news for subscribers" }] });
  await api("user", { users: ["bob"], event: "mail", args: [{ text: "for bob" }] });

  const expected = [
    'socket mail [{"text":"for alice"}]',
    'sse mail [{"text":"for alice"}]',
    'socket post [{"title":"news for subscribers"},"news"]',
    'sse post [{"title":"news for subscribers"},"news"]',
  ];
  await alice.waitForFunction((n) => document.querySelectorAll("#messages li").length >= n, expected.length, T);
  const got = await alice.$$eval("#messages li", (items) => items.map((li) => li.textContent));
  assert.deepEqual([...got].sort(), [...expected].sort());

  // The forged page never connected, so nothing reached it.
  assert.equal(await mallory.$$eval("#messages li", (items) => items.length), 0);
  await alice.screenshot({ path: path.join(shots, "identity-alice.png") });
  await mallory.screenshot({ path: path.join(shots, "identity-forged.png") });
  assert.deepEqual(pageErrors, []);
});
