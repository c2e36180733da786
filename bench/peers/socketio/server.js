// Node socket.io 4.8 peer for Herald's load tool. Same application logic as every bench target:
//   "join" (room, ack)    -> socket.join(room), then ack()        (the generator waits for every ack)
//   "pub"  (room, payload) -> io.to(room).emit("msg", payload)    (broadcast, sender included if joined)
// HTTP: GET /bench/ready -> 200 "ok"; GET /bench/gc -> {"heap":<bytes after a full GC>,"rss":<bytes>}.
// Start: node --expose-gc server.js --port N   (or PORT=N); transports: ws via the default wsEngine.
// Cluster scenario: --redis redis://127.0.0.1:P makes it one node of a cluster with @socket.io/redis-adapter
// (the official Redis adapter, node-redis clients); it listens once both Redis clients are connected.
"use strict";
const http = require("node:http");
const { Server } = require("socket.io");

const portFlag = process.argv.indexOf("--port");
const port = Number(portFlag > 0 ? process.argv[portFlag + 1] : process.env.PORT || 5101);
const host = process.env.HOST || "127.0.0.1";

const httpServer = http.createServer((req, res) => {
  if (req.url === "/bench/ready") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  } else if (req.url === "/bench/gc") {
    if (typeof global.gc === "function") { global.gc(); global.gc(); }
    const m = process.memoryUsage();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ heap: m.heapUsed, rss: m.rss, external: m.external }));
  } else if (!req.url.startsWith("/socket.io")) {
    res.writeHead(404);
    res.end();
  }
});

const io = new Server(httpServer, { serveClient: false, cors: { origin: "*" } });

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("pub", (room, payload) => {
    io.to(room).emit("msg", payload);
  });
});

async function useRedis(url) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url });
  const subClient = pubClient.duplicate();
  pubClient.on("error", (e) => console.error("redis pub:", e.message));
  subClient.on("error", (e) => console.error("redis sub:", e.message));
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
  // The adapter subscribes in its constructor; a round trip on the subscriber connection orders after it.
  await subClient.pSubscribe("herald-bench-probe#*", () => {});
}

const redisFlag = process.argv.indexOf("--redis");
(redisFlag > 0 ? useRedis(process.argv[redisFlag + 1]) : Promise.resolve()).then(() => {
  httpServer.listen(port, host, () => {
    console.log(`socket.io ${require("socket.io/package.json").version} listening on http://${host}:${port}` +
      (redisFlag > 0 ? ` (redis adapter ${require("@socket.io/redis-adapter/package.json").version})` : ""));
  });
}, (e) => { console.error("redis adapter:", e); process.exit(1); });

const stop = () => { io.close(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
