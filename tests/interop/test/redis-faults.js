// Redis and hub faults under load, against hub PROCESSES (issue 14): two standalone hubs (src/Herald.Server, the
// built Herald.Server.dll, as users run it) share one real redis-server. Ten official socket.io-clients on each hub;
// two publishers push numbered emits at ~100 msgs/s each (~200 msgs/s together) through the HTTP publish API, one
// through each hub, so every hub is at once a publisher (its own clients) and a receiver (the other hub's stream).
//
// Faults: redis-server killed with SIGKILL for 5 s and for 15 s (then restarted on the same port), and a hub killed
// with SIGKILL (its clients reconnect to the other hub). For every client and every stream: what the API accepted
// (200) = what the client got + what the publishing hub counted as lost (Herald.Redis counters in
// /admin/api/metrics: dropped, undelivered, failed), no duplicates, order kept. During the outage the API answers
// what docs/http-api.md promises (200 while the outage buffer has room), the publishing hub's own clients keep
// getting its emits at once, /readyz is 503, and 200 once Redis is back.
//
// Both buses: pub/sub (default) and Redis Streams (Herald:Redis:Bus=Streams). With Streams a 15 s outage loses 0.
// The outage lengths are the test input; every other wait is on an event or a state, with a timeout.
// This module only defines the suite: redis-faults-pubsub.test.js and redis-faults-streams.test.js run it for each
// bus (one file each, so that each stays under the runner's per-file timeout), redis-start.test.js the start-up case.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { io } from "socket.io-client";
import { freePort, TIMEOUT } from "./harness.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const API_KEY = "redis-faults-api-key-0123456789";
const SECRET = "redis-faults-shared-secret-0123456789abcdef";
const CLIENTS_PER_HUB = 10;
const RATE_PER_PUBLISHER = 100; // msgs/s; two publishers: ~200 msgs/s
const LOCAL_DELIVERY_BOUND_MS = 2_000; // "at once" on a shared 2-core CI machine

// The Streams bus comes from the `streams` branch (Herald:Redis:Bus=Streams). Until it is merged the hub ignores the
// setting and runs pub/sub, which the suite detects (the bus type /readyz reports) and refuses: the variant is
// pending. The lead turns it on at the merge by setting this to null.
export const STREAMS_PENDING = null;

function hubDll() {
  for (const cfg of ["Release", "Debug"]) {
    const dll = path.join(root, `src/Herald.Server/bin/${cfg}/net10.0/Herald.Server.dll`);
    if (existsSync(dll)) return dll;
  }
  throw new Error("Herald.Server is not built: run `dotnet build src/Herald.Server -c Release` first");
}

/**
 * A redis-server on `port`; resolves once it accepts connections. With `dir`, it keeps its data there in an
 * append-only file synced on every write (`appendfsync always`) and loads it when restarted there: a production
 * Redis that comes back with what it had acknowledged. Without, it comes back empty.
 */
async function startRedisOn(port, dir) {
  const persistence = dir ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redis-server did not start:\n" + output)), TIMEOUT);
    child.stdout.on("data", (c) => {
      output += c;
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  return child;
}

/** kill -9, resolved once the process is gone (its port is free again). */
function kill9(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Starts the hub process; resolves { url, child, output() } once it listens. */
export async function startHub(name, redisPort, bus, extraEnv = {}) {
  const child = spawn("dotnet", [hubDll(), "--urls", "http://127.0.0.1:0"], {
    cwd: path.join(root, "src/Herald.Server"),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DOTNET_NOLOGO: "1",
      ASPNETCORE_ENVIRONMENT: "Production",
      Herald__NodeName: name,
      Herald__Redis__ConnectionString: `127.0.0.1:${redisPort}`,
      Herald__Redis__Bus: bus,
      Herald__ApiKeys__0: API_KEY,
      Herald__Secret: SECRET,
      Herald__SocketIO__ConnectionStateRecovery__MaxDisconnectionDuration: "00:02:00",
      ...extraEnv,
    },
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub ${name} did not start:\n${output}`)), 30_000);
    child.stdout.on("data", (c) => {
      output += c;
      const m = /Now listening on: (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on("data", (c) => (output += c));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hub ${name} exited with ${code}:\n${output}`));
    });
  });
  return { name, url, child, output: () => output, stop: () => kill9(child) };
}

async function getJson(url, auth = true) {
  const res = await fetch(url, { headers: auth ? { "x-herald-key": API_KEY } : {}, signal: AbortSignal.timeout(TIMEOUT) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Polls `probe` (every 50 ms) until it returns a truthy value; rejects after `ms` with `what`. */
async function waitUntil(probe, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await delay(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

const readyz = async (hub) => (await getJson(hub.url + "/readyz", false)).status;
const waitReady = (hub, status, ms) => waitUntil(async () => (await readyz(hub)) === status, ms, `${hub.name} /readyz ${status}`);

/** The hub's Herald.Redis counters (herald.redis.* in /admin/api/metrics), summed over tags. */
async function counters(hub) {
  const { status, body } = await getJson(hub.url + "/admin/api/metrics");
  assert.equal(status, 200, `${hub.name} /admin/api/metrics`);
  const sum = { published: 0, buffered: 0, replayed: 0, dropped: 0, undelivered: 0, failed: 0, missed: 0 };
  for (const [key, value] of Object.entries(body.values)) {
    const m = /^herald\.redis\.(\w+)(\{.*\})?$/.exec(key);
    if (m && m[1] in sum) sum[m[1]] += value;
  }
  return sum;
}

const diff = (after, before) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));

/** A client on `hub` that records every numbered emit per stream, with its arrival time. */
async function newClient(hub, id) {
  const socket = io(hub.url, {
    forceNew: true,
    transports: ["websocket"],
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    randomizationFactor: 0,
  });
  const client = { id, hub: hub.name, socket, got: {}, at: {}, ends: new Set(), connects: 0, waiters: [] };
  socket.on("connect", () => client.connects++);
  socket.on("n", (from, seq) => {
    (client.got[from] ??= []).push(seq);
    (client.at[from] ??= new Map()).set(seq, Date.now());
  });
  socket.on("end", (from, run) => {
    client.ends.add(`${from}:${run}`);
    for (const w of client.waiters) w();
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${id} did not connect`)), TIMEOUT);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return client;
}

/** Resolves once `client` got the end marker of `from` for `run`. */
function ended(client, from, run, ms) {
  const key = `${from}:${run}`;
  return new Promise((resolve, reject) => {
    if (client.ends.has(key)) return resolve();
    const timer = setTimeout(() => reject(new Error(`client ${client.id} (on ${client.hub}) got no end marker ${key} within ${ms} ms`)), ms);
    client.waiters.push(() => {
      if (client.ends.has(key)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function emit(hub, body) {
  try {
    const res = await fetch(hub.url + "/api/emit", {
      method: "POST",
      headers: { "content-type": "application/json", "x-herald-key": API_KEY },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT),
    });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}

/**
 * Emits `n` events numbered 1, 2, ... through `hub`'s API at `rate` per second (each waits for the answer before
 * the next: the order of the stream is the order the API accepted them) until stop() is called.
 */
function startPublisher(hub, from, rate = RATE_PER_PUBLISHER) {
  const p = { hub, from, answers: [], stopped: false };
  p.done = (async () => {
    const t0 = performance.now();
    for (let seq = 1; !p.stopped; seq++) {
      const due = t0 + (seq * 1000) / rate; // pacing the load, not synchronising anything
      const wait = due - performance.now();
      if (wait > 0) await delay(wait);
      const at = Date.now();
      const { status, text } = await emit(hub, { event: "n", args: [from, seq] });
      p.answers.push({ seq, status, text, at, took: Date.now() - at });
    }
  })();
  p.stop = async () => {
    p.stopped = true;
    await p.done;
  };
  return p;
}

/**
 * For each stream and each client: every publication the API accepted (200) arrived once and in order, or is
 * counted: by the publishing hub in Undelivered (a replay that reached fewer subscribers than before the outage), or
 * by the client's hub in Missed (Streams: trimmed before it read them); never for the publishing hub's own clients,
 * which get it at once. Every one the API refused (503) is counted by the publishing hub in Dropped (outage buffer
 * full or off) or Failed (lost in flight: it may or may not arrive). Nothing else arrives, nothing twice.
 * `lost` holds each hub's counter deltas by hub name. Returns the figures.
 */
function account(clients, publishers, lost) {
  const figures = {};
  for (const p of publishers) {
    const sent = p.answers.filter((a) => a.status === 200).map((a) => a.seq);
    const refused = p.answers.filter((a) => a.status !== 200);
    const refusedSeqs = new Set(refused.map((a) => a.seq));
    const l = lost[p.hub.name];
    const f = (figures[p.from] = {
      sent: sent.length,
      refused: refused.map((a) => `${a.seq}:${a.status}`),
      refusedDelivered: 0,
      missingPerClient: {},
    });
    assert.deepEqual(refused.filter((a) => a.status !== 503).map((a) => `${a.seq}: ${a.status} ${a.text}`), [], `${p.hub.name}: API answers other than 200 or 503`);
    assert.ok(refused.length <= l.dropped + l.failed, `${p.hub.name} refused ${refused.length} publications but counted ${l.dropped} dropped + ${l.failed} failed`);
    for (const c of clients) {
      const got = c.got[p.from] ?? [];
      const who = `client ${c.id} on ${c.hub}, stream ${p.from}`;
      assert.equal(new Set(got).size, got.length, `${who}: a duplicate`);
      for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `${who}: ${got[i]} after ${got[i - 1]} (order)`);
      const delivered = new Set(got);
      for (const seq of got) assert.ok(sent.includes(seq) || refusedSeqs.has(seq), `${who}: ${seq} was never published`);
      f.refusedDelivered = Math.max(f.refusedDelivered, got.filter((seq) => refusedSeqs.has(seq)).length);
      const missing = sent.filter((seq) => !delivered.has(seq)).length;
      f.missingPerClient[c.hub] = Math.max(f.missingPerClient[c.hub] ?? 0, missing);
      const counted = c.hub === p.hub.name ? 0 : l.undelivered + (lost[c.hub]?.missed ?? 0);
      assert.ok(missing <= counted, `${who}: ${missing} of the ${sent.length} accepted publications missing, ${counted} counted (${JSON.stringify(lost)})`);
    }
  }
  return figures;
}

/** Defines the fault suite for one bus ("PubSub" or "Streams"). */
export function faultSuite(bus) {
  const todo = bus === "Streams" && STREAMS_PENDING ? STREAMS_PENDING : undefined;
  describe(`Redis and hub faults under load, ${bus} bus (hub processes)`, { todo }, () => {
    let redisPort, redis, hubA, hubB;
    let run = 0;
    // Redis restarts with its data (AOF): what it acknowledged before the kill is still there for the Streams bus's
    // readers. (Without persistence a stream entry that one hub had not read yet when Redis died is lost with Redis's
    // memory, and counted in Missed.)
    const redisDir = mkdtempSync(path.join(os.tmpdir(), "herald-redis-faults-"));

    before(async () => {
      redisPort = await freePort();
      redis = await startRedisOn(redisPort, redisDir);
      [hubA, hubB] = await Promise.all([startHub("hub-a", redisPort, bus), startHub("hub-b", redisPort, bus)]);
      for (const hub of [hubA, hubB]) {
        await waitReady(hub, 200, 30_000);
        const { body } = await getJson(hub.url + "/readyz");
        assert.equal(body.node, hub.name);
        if (bus === "Streams") assert.match(body.bus, /Stream/, `Herald:Redis:Bus=Streams, but ${hub.name} runs ${body.bus}`);
        else assert.equal(body.bus, "RedisMessageBus");
      }
    });

    after(async () => {
      await Promise.all([hubA?.stop(), hubB?.stop()]);
      if (redis) await kill9(redis);
      rmSync(redisDir, { recursive: true, force: true });
    });

    // What a test started, stopped whatever happens (a failed assertion must not leave load running into the next).
    let running = [];
    const stopAll = async () => {
      const r = running;
      running = [];
      await Promise.all(r.map((x) => x.stop()));
    };

    async function clientsOnBoth() {
      const pending = [];
      for (const hub of [hubA, hubB]) {
        for (let i = 0; i < CLIENTS_PER_HUB; i++) pending.push(newClient(hub, `${hub.name}#${i}`));
      }
      const clients = await Promise.all(pending);
      for (const c of clients) running.push({ stop: () => c.socket.disconnect() });
      return clients;
    }

    function publisher(hub, from) {
      const p = startPublisher(hub, from);
      running.push(p);
      return p;
    }

    /** Stops the load, sends each stream's end marker, waits for it at every client, then accounts. */
    async function finish(clients, publishers, before) {
      await Promise.all(publishers.map((p) => p.stop()));
      const id = ++run;
      for (const p of publishers) assert.equal((await emit(p.hub, { event: "end", args: [p.from, id] })).status, 200);
      // The end marker follows its stream (one publisher, in order), so once it is in, the stream is complete.
      await Promise.all(clients.flatMap((c) => publishers.map((p) => ended(c, p.from, id, 30_000))));
      const lost = {};
      for (const hub of [hubA, hubB].filter((h) => h.name in before)) lost[hub.name] = diff(await counters(hub), before[hub.name]);
      return { figures: account(clients, publishers, lost), lost };
    }

    async function redisOutage(seconds) {
      const clients = await clientsOnBoth();
      const before = { "hub-a": await counters(hubA), "hub-b": await counters(hubB) };
      const pa = publisher(hubA, "A");
      const pb = publisher(hubB, "B");
      await waitUntil(() => pa.answers.length >= 50 && pb.answers.length >= 50, TIMEOUT, "load before the fault");

      const killedAt = Date.now();
      await kill9(redis);
      await Promise.all([waitReady(hubA, 503, 5_000), waitReady(hubB, 503, 5_000)]);
      const notReadyAt = Date.now();
      await delay(seconds * 1000 - (notReadyAt - killedAt)); // the outage: the test input
      assert.equal(await readyz(hubA), 503, "hub-a /readyz until Redis is back");
      assert.equal(await readyz(hubB), 503, "hub-b /readyz until Redis is back");
      const restartedAt = Date.now();
      redis = await startRedisOn(redisPort, redisDir);
      await Promise.all([waitReady(hubA, 200, 30_000), waitReady(hubB, 200, 30_000)]);
      const readyAfter = Date.now() - restartedAt;
      const settled = pa.answers.length + 50;
      await waitUntil(() => pa.answers.length >= settled, 3 * TIMEOUT, "load after the fault");

      // docs/http-api.md: during an outage a command that fits in the outage buffer answers 200.
      const inOutage = (a) => a.at >= notReadyAt && a.at < restartedAt;
      const during = [...pa.answers, ...pb.answers].filter(inOutage);
      const notOk = during.filter((a) => a.status !== 200);
      const slowest = Math.max(...during.map((a) => a.took));
      const rate = Math.round((during.length * 1000) / (restartedAt - notReadyAt));
      const median = (xs) => xs.map((a) => a.took).sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      const medianBefore = median([...pa.answers, ...pb.answers].filter((a) => a.at < killedAt));
      const medianDuring = median(during);

      const { figures, lost } = await finish(clients, [pa, pb], before);

      // Local delivery never stops: the publishing hub's own clients get its emits during the outage at once.
      let worstLocal = 0;
      for (const p of [pa, pb]) {
        for (const a of p.answers.filter((x) => x.status === 200 && inOutage(x))) {
          for (const c of clients.filter((x) => x.hub === p.hub.name)) {
            const got = c.at[p.from]?.get(a.seq);
            if (got !== undefined) worstLocal = Math.max(worstLocal, got - a.at);
          }
        }
      }

      const summary = {
        bus, outageSeconds: seconds, notReadyAfterMs: notReadyAt - killedAt, readyAfterRestartMs: readyAfter,
        publishedDuringOutage: during.length, ratePerSecondDuringOutage: rate, apiAnswerMedianMs: { before: medianBefore, during: medianDuring },
        slowestApiAnswerDuringOutageMs: slowest,
        worstLocalDeliveryDuringOutageMs: worstLocal, lost, figures,
      };
      console.log("redis-faults:", JSON.stringify(summary));
      assert.deepEqual(notOk.slice(0, 3), [], `${notOk.length} of ${during.length} API answers during the outage were not 200`);
      // Under load: the pace is the machine's (a shared CI machine may not reach 200 msgs/s); the figures say it.
      assert.ok(rate >= 10, `the load during the outage was ${rate} msgs/s`);
      assert.ok(worstLocal <= LOCAL_DELIVERY_BOUND_MS, `the publishing hub's own clients waited ${worstLocal} ms during the outage`);
      if (bus === "Streams") {
        for (const f of Object.values(figures)) assert.deepEqual(f.missingPerClient, { "hub-a": 0, "hub-b": 0 }, "Streams: nothing lost");
      }
    }

    test("redis-server killed for 5 s under load: counts add up, no duplicate, order kept, /readyz 503 then 200", { todo }, async () => {
      try {
        await redisOutage(5);
      } finally {
        await stopAll();
      }
    });

    test(`redis-server killed for 15 s under load: counts add up, no duplicate, order kept${bus === "Streams" ? ", nothing lost" : ""}`, { todo }, async () => {
      try {
        await redisOutage(15);
      } finally {
        await stopAll();
      }
    });

    test("a hub killed with SIGKILL under load: its clients reconnect to the other hub and miss nothing", { todo }, async () => {
      try {
        const clients = await clientsOnBoth();
        const before = { "hub-b": await counters(hubB) };
        const pb = publisher(hubB, "B");
        await waitUntil(() => pb.answers.length >= 50, TIMEOUT, "load before the fault");
        const moved = clients.filter((c) => c.hub === "hub-a");
        const reconnected = Promise.all(moved.map((c) => new Promise((resolve) => c.socket.io.once("reconnect", resolve))));
        for (const c of moved) c.socket.io.uri = hubB.url; // where the load balancer sends them next
        await hubA.stop();
        const giveUp = new AbortController();
        await Promise.race([reconnected, delay(30_000, null, { signal: giveUp.signal }).then(() => assert.fail("hub-a's clients did not all reconnect to hub-b within 30 s"), () => {})]);
        giveUp.abort();
        const settled = pb.answers.length + 50;
        await waitUntil(() => pb.answers.length >= settled, TIMEOUT, "load after the fault");

        const { figures } = await finish(clients, [pb], before);
        const recovered = moved.filter((c) => c.socket.recovered).length;
        console.log("redis-faults:", JSON.stringify({ bus, hubKilled: "hub-a", recovered, figures }));
        for (const c of moved) assert.equal(c.connects, 2, `${c.id} connected twice (once to each hub)`);
        // Connection-state recovery across hubs (Herald:SocketIO:ConnectionStateRecovery): nothing missed.
        assert.deepEqual(figures.B.missingPerClient, { "hub-a": 0, "hub-b": 0 });
        assert.equal(recovered, moved.length, "every moved client was recovered");
      } finally {
        await stopAll();
      }
    });
  });
}

export const startUpTest = (bus) => test(`${bus} bus: a hub started with Redis unreachable logs a clear warning periodically, without stack traces, and is ready once Redis is up`, { todo: bus === "Streams" && STREAMS_PENDING ? STREAMS_PENDING : undefined }, async () => {
  const port = await freePort();
  const hub = await startHub("hub-early", port, bus);
  let server;
  try {
    assert.equal((await getJson(hub.url + "/healthz", false)).status, 200);
    const { status, body } = await getJson(hub.url + "/readyz");
    assert.equal(status, 503);
    assert.match(body.bus, bus === "Streams" ? /Stream/ : /^RedisMessageBus$/, `Herald:Redis:Bus=${bus}`);
    const warning = /Redis at 127\.0\.0\.1:\d+\S* is unreachable/g;
    await waitUntil(() => (hub.output().match(warning) ?? []).length >= 2, 20_000, "two 'unreachable' warnings");
    const log = hub.output();
    assert.doesNotMatch(log, /^\s+at /m, `stack traces in the log while Redis is unreachable:\n${log}`);
    const t0 = Date.now();
    server = await startRedisOn(port);
    await waitReady(hub, 200, 30_000);
    console.log("redis-start:", JSON.stringify({ bus, readyAfterRedisStartedMs: Date.now() - t0, warnings: (hub.output().match(warning) ?? []).length }));
  } finally {
    await hub.stop();
    if (server) await kill9(server);
  }
});
