// Starts the Herald interop server (tests/Herald.InteropServer, built by `dotnet build -c Release`)
// on a free port and gives tests a connected-client factory. Every wait has a timeout: no sleeps.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");

function serverDll() {
  for (const cfg of ["Release", "Debug"]) {
    const dll = path.join(root, `tests/Herald.InteropServer/bin/${cfg}/net10.0/Herald.InteropServer.dll`);
    if (existsSync(dll)) return dll;
  }
  throw new Error("Herald.InteropServer is not built: run `dotnet build Herald.slnx -c Release` first");
}

export const TIMEOUT = 10_000;

/** Starts the interop server, or another ASP.NET Core app given as `dll` (the sample built from the packages). */
export async function startServer(extraEnv = {}, dll = serverDll()) {
  const child = spawn("dotnet", [dll, "--urls", "http://127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ASPNETCORE_ENVIRONMENT: "Development", DOTNET_NOLOGO: "1", ...extraEnv },
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start:\n" + output)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const m = /Now listening on: (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => (output += c));
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  const clients = [];
  return {
    url,
    get output() {
      return output;
    },
    client(nsp = "/", opts = {}) {
      const socket = io(url + nsp, { forceNew: true, reconnection: false, ...opts });
      clients.push(socket);
      return socket;
    },
    /** Kills the server process at once (no graceful shutdown: the fault tests' kill -9). */
    kill() {
      child.kill("SIGKILL");
    },
    async stop() {
      for (const c of clients) c.disconnect();
      child.kill("SIGTERM");
      await new Promise((r) => {
        if (child.exitCode !== null) return r();
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r();
        }, 5000);
        child.on("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    },
  };
}

/** Resolves with the arguments of the next `event` on `emitter`, rejects after `ms`. */
export function once(emitter, event, ms = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out waiting for "${event}"`));
    }, ms);
    const handler = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, handler);
  });
}

/** Connects and resolves once "connect" fired; rejects on connect_error. */
export async function connected(socket, ms = TIMEOUT) {
  if (socket.connected) return socket;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out connecting")), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** Collects every `event` into an array, for asserting that something did NOT arrive twice. */
export function collect(socket, event) {
  const items = [];
  socket.on(event, (...args) => items.push(args));
  return items;
}

/** Emits with an ack and a timeout (the client's own timeout() API); resolves with the ack's first argument. */
export function ask(socket, event, ...args) {
  return socket.timeout(TIMEOUT).emitWithAck(event, ...args);
}

/** Like ask, but resolves with every argument of the ack. */
export function askAll(socket, event, ...args) {
  return new Promise((resolve, reject) =>
    socket.timeout(TIMEOUT).emit(event, ...args, (err, ...reply) => (err ? reject(err) : resolve(reply))));
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Starts a throwaway redis-server (no persistence) on a free port; resolves with `{ child, port }` once it is ready. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
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
    child.on("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
  return { child, port };
}
