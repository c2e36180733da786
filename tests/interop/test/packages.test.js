// The NuGet packages as users get them (issue 18): test.sh packs every src/ library into artifacts/packages and
// builds samples/FromPackages from that folder, with PackageReferences and no project reference. This starts that
// build and talks to it with the official client: what users install works end to end.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventSource } from "eventsource";
import { startServer, once, connected } from "./harness.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dll = path.join(root, "samples/FromPackages/bin/Release/net10.0/Herald.Samples.FromPackages.dll");
let server;

before(async () => {
  assert.ok(existsSync(dll), `${dll} is missing: ./test.sh packs src/ and builds samples/FromPackages before these tests`);
  server = await startServer({ ASPNETCORE_ENVIRONMENT: "Production" }, dll);
});

after(async () => {
  await server?.stop();
});

test("the sample built from the packages: a chat line reaches the other socket and the SSE feed", async () => {
  const feed = new EventSource(server.url + "/events?topic=chat");
  try {
    await new Promise((resolve, reject) => {
      feed.onopen = resolve;
      feed.onerror = (e) => reject(new Error("the SSE feed did not open: " + (e.message ?? e.type)));
    });
    const a = await connected(server.client("/", { transports: ["websocket"] }));
    const b = await connected(server.client("/", { transports: ["polling"] }));
    const atB = once(b, "chat");
    const atFeed = new Promise((resolve) => feed.addEventListener("chat", (e) => resolve(e.data)));
    const atA = new Promise((resolve) => a.once("chat", resolve));
    a.emit("chat", "hello from a package");
    assert.deepEqual(await atB, ["hello from a package"]);
    assert.equal(await atFeed, "hello from a package"); // a string goes out as is, other values as JSON (docs/sse.md)
    // The sender is excluded from its own broadcast: the first chat line a receives is b's answer, not its own.
    b.emit("chat", "and back");
    assert.equal(await atA, "and back");
  } finally {
    feed.close();
  }
});

test("every library of src/ is packed, with its README and XML docs", async () => {
  const { readdirSync } = await import("node:fs");
  const libraries = readdirSync(path.join(root, "src")).filter((n) => n !== "Herald.Server" && existsSync(path.join(root, "src", n, n + ".csproj")));
  assert.ok(libraries.length >= 11, "src/ libraries: " + libraries);
  const packages = readdirSync(path.join(root, "artifacts/packages"));
  for (const name of libraries) {
    const nupkg = packages.find((p) => p.startsWith(name + ".") && p.endsWith(".nupkg") && /^\d/.test(p.slice(name.length + 1)));
    assert.ok(nupkg, `no package for ${name} in artifacts/packages (is it listed in Herald.Packages.slnf?)`);
    const files = zipEntries(readFileSync(path.join(root, "artifacts/packages", nupkg)));
    assert.ok(files.includes("README.md"), `${nupkg} has no README.md`);
    assert.ok(files.includes(`lib/net10.0/${name}.xml`), `${nupkg} has no XML docs`);
    assert.ok(packages.includes(nupkg.replace(/\.nupkg$/, ".snupkg")), `${nupkg} has no symbols package`);
  }
});

/** The file names in a zip (a .nupkg), read from its central directory: no unzip tool needed on the CI machine. */
function zipEntries(zip) {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, "not a zip file");
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, "bad central directory entry");
    const nameLength = zip.readUInt16LE(at + 28), extra = zip.readUInt16LE(at + 30), comment = zip.readUInt16LE(at + 32);
    names.push(zip.toString("utf8", at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extra + comment;
  }
  return names;
}
