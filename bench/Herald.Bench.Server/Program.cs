using Herald.Bench.Shared;
using Herald.EngineIO;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;

// Herald target: the same application logic as every peer (see bench/peers/socketio/server.js):
//   "join" (room, ack)     -> socket.Join(room), then ack()
//   "pub"  (room, payload) -> io.To(room).Emit("msg", payload)
// and for the sse scenario, Server-Sent Events at /bench/sse (EventSource clients ask for ?topic=bench):
//   "pub-sse" (topic, payload) -> sse.To(topic).Send(payload)
// and for the soak scenario "leave", "echo", "bin" and GET /bench/sessions (see SoakEndpoints.cs).
// For the cluster scenario, `--redis host:port --node name` makes it one node of a cluster: the Redis bus and
// the cluster adapter (as socket.io's @socket.io/redis-adapter in the node peer); /bench/ready answers 503 until
// the adapter's subscriptions are in place. `--bus streams` puts the Redis Streams bus under it instead of pub/sub.
var builder = BenchServerHost.CreateBuilder(args);
var redis = ArgValue(args, "--redis");
var sio = builder.Services.AddSocketIO();
if (redis is not null)
{
    builder.Services.AddHeraldMessaging(o => o.NodeName = ArgValue(args, "--node") ?? "bench-node");
    if (ArgValue(args, "--bus") == "streams")
    {
        builder.Services.AddHeraldRedisStreams(redis); // the Redis Streams bus (cluster scenario's herald-streams row)
    }
    else
    {
        builder.Services.AddHeraldRedis(redis);
    }

    sio.AddClusterAdapter();
}

builder.Services.AddServerSentEvents();
var app = builder.Build();
var ready = redis is null ? Task.CompletedTask : null;
app.Use(async (context, next) =>
{
    if (context.Request.Path == "/bench/ready" && ready is not { IsCompletedSuccessfully: true })
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return;
    }

    await next(context);
});
BenchServerHost.MapBenchEndpoints(app);
Herald.Bench.Server.EngineCounters.Map(app);
// As MapSocketIO("/socket.io/"), but keeping the Engine.IO server for /bench/sessions (soak scenario).
var io = app.Services.GetRequiredService<SocketIOServer>();
io.Options.Engine.Path = "/socket.io/";
var engine = new EngineIOServer(io.Options.Engine, io, app.Services.GetService<ILoggerFactory>());
app.MapEngineIO(engine);
if (io.Sockets.Adapter is ClusterAdapter cluster)
{
    ready = cluster.Ready;
}

var sse = app.MapServerSentEvents("/bench/sse");
Herald.Bench.Server.SoakEndpoints.Map(app, io, engine, sse);
io.OnConnection(socket =>
{
    socket.On<string>("join", async (room, ack) =>
    {
        await socket.Join(room);
        ack();
    });
    socket.On<string, string>("pub", (room, payload) => io.To(room).Emit("msg", payload));
    socket.On<string, string>("pub-sse", (topic, payload) => sse.To(topic).Send(payload));
    Herald.Bench.Server.SoakEndpoints.AddHandlers(socket);
});
app.Run();

static string? ArgValue(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
