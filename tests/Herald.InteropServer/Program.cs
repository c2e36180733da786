// The server the Node interop tests (tests/interop) drive with the official socket.io-client.
// Every behaviour here is named by an event the tests emit; see tests/interop/test/*.test.js.
// It also serves Server-Sent Events at /sse for the `eventsource` package, driven by a small HTTP control API
// under /sse-test (tests/interop/test/sse.test.js).
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.SocketIO;
using Herald.Sse;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
builder.Services.AddSocketIO(o =>
{
    o.ConnectTimeout = TimeSpan.FromSeconds(5);

    // Engine.IO's initial_headers / headers (tests/interop/test/fidelity.test.js).
    o.Engine.OnInitialHeaders = context => context.Response.Headers["x-initial"] = "1";
    o.Engine.OnHeaders = context => context.Response.Headers["x-every"] = "1";

    // Connection-state recovery (tests/interop/test/recovery.test.js): HERALD_RECOVERY=1.
    if (Environment.GetEnvironmentVariable("HERALD_RECOVERY") == "1")
    {
        o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions();
    }
});

// Cluster mode (tests/interop/test/cluster.test.js): HERALD_REDIS=host:port HERALD_NODE=web-1.
var redis = Environment.GetEnvironmentVariable("HERALD_REDIS");
if (!string.IsNullOrEmpty(redis))
{
    builder.Services.AddClusterAdapter(o =>
    {
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        o.HeartbeatTimeout = TimeSpan.FromSeconds(2);
    });
    builder.Services.AddHeraldRedis(redis);
    builder.Services.AddHeraldMessaging(o => o.NodeName = Environment.GetEnvironmentVariable("HERALD_NODE"));
}

builder.Services.AddServerSentEvents(o =>
{
    // A short retry hint keeps the reconnect tests fast; nothing waits on it.
    o.RetryInterval = TimeSpan.FromMilliseconds(50);
    o.Authorize = ctx => ValueTask.FromResult(ctx.Request.Query["user"].ToString() is { Length: > 0 } user
        ? (user == "mallory" ? SseAuthorizationResult.Reject(401) : SseAuthorizationResult.Accept("user-" + user))
        : SseAuthorizationResult.Accept());
    o.AuthorizeTopic = (_, topic) => ValueTask.FromResult(!topic.StartsWith("private:", StringComparison.Ordinal));
});
SessionsInterop.AddServices(builder.Services);
var app = builder.Build();
var io = app.MapSocketIO("/socket.io");
MapSseTest(app);
SessionsInterop.Map(app, io);

io.Use(async (socket, next) =>
{
    if (socket.Handshake.Auth.ValueKind == JsonValueKind.Object
        && socket.Handshake.Auth.TryGetProperty("token", out var token)
        && token.ValueEquals("bad"))
    {
        throw new ConnectionRejectedException("unauthorized", new { code = 401 });
    }

    await next();
});

io.OnConnection(socket =>
{
    socket.On("whoami", (SocketEvent e) =>
    {
        e.Ack(new { id = socket.Id, auth = socket.Handshake.Auth, query = socket.Handshake.Query["q"].ToString() });
        return ValueTask.CompletedTask;
    });
    socket.On("echo", (SocketEvent e) =>
    {
        e.Ack(e.GetRelayArgs());
        return ValueTask.CompletedTask;
    });
    socket.On<byte[]>("echo-binary", (bytes, ack) => ack(bytes));
    socket.On<NestedFile>("echo-nested", (file, ack) => ack(new { file.Name, file.File, size = file.File.Length }));
    socket.On("emit-back", (SocketEvent e) =>
    {
        var name = e.GetArg<string>(0)!;
        socket.Emit(name, e.GetRelayArgs().AsSpan(1));
        return ValueTask.CompletedTask;
    });
    socket.On<string[]>("join", async (rooms, ack) =>
    {
        await socket.Join(rooms);
        ack((object)socket.Rooms.ToArray()); // one argument: the array (params would spread it)
    });
    socket.On<string>("leave", async (room, ack) =>
    {
        await socket.Leave(room);
        ack((object)socket.Rooms.ToArray()); // one argument: the array (params would spread it)
    });
    socket.On<ToRequest>("to", (req, ack) =>
    {
        io.To(req.To).Except(req.Except).Emit(req.Event, req.Data);
        ack();
    });
    socket.On<RoomRequest>("broadcast-room", (req, ack) =>
    {
        socket.To(req.Room).Emit("room-msg", req.Data);
        ack();
    });
    socket.On<JsonElement>("broadcast-all", (data, ack) =>
    {
        socket.Broadcast.Emit("all-msg", data);
        ack();
    });
    socket.On<AskRequest>("ask-client", async (req, ack) =>
    {
        try
        {
            var reply = await socket.Timeout(TimeSpan.FromMilliseconds(req.TimeoutMs)).EmitWithAckAsync<string>(req.Event, "question");
            ack(new { ok = true, reply });
        }
        catch (TimeoutException)
        {
            ack(new { ok = false, error = "timeout" });
        }
    });
    socket.On<AskRoomRequest>("ask-room", async (req, ack) =>
    {
        try
        {
            var replies = await io.To(req.Room).Timeout(TimeSpan.FromMilliseconds(req.TimeoutMs)).EmitWithAckAsync("question");
            ack(new { ok = true, replies = replies.Select(r => r.Get<string>(0)).ToArray() });
        }
        catch (BroadcastTimeoutException e)
        {
            ack(new { ok = false, replies = e.Responses.Select(r => r.Get<string>(0)).ToArray() });
        }
    });
    socket.On<int>("wait-nodes", async (count, ack) =>
    {
        if (io.Sockets.Adapter is Herald.SocketIO.Cluster.ClusterAdapter cluster)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Check()
            {
                if (cluster.Nodes.Count + 1 >= count)
                {
                    seen.TrySetResult();
                }
            }

            cluster.NodesChanged += Check;
            Check();
            await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
            cluster.NodesChanged -= Check;
        }

        ack(await io.Sockets.Adapter.ServerCountAsync());
    });
    socket.On<string>("fetch-ids", async (room, ack) =>
    {
        var sockets = string.IsNullOrEmpty(room) ? await io.FetchSocketsAsync() : await io.In(room).FetchSocketsAsync();
        ack((object)sockets.Select(s => s.Id).Order().ToArray());
    });
    socket.On("never-ack", (SocketEvent _) => ValueTask.CompletedTask);
    socket.On("fence-all", (SocketEvent e) =>
    {
        io.Emit("fence");
        e.Ack();
        return ValueTask.CompletedTask;
    });
    socket.On<StreamRequest>("stream", (req, ack) =>
    {
        // A numbered stream to every socket: "<event>" 1..count, one every `everyMs` milliseconds, then "<event>-end".
        _ = Task.Run(async () =>
        {
            for (var i = 1; i <= req.Count; i++)
            {
                io.Emit(req.Event, i);
                if (req.EveryMs > 0)
                {
                    await Task.Delay(req.EveryMs);
                }
            }

            io.Emit(req.Event + "-end", req.Count);
        });
        ack();
    });
    socket.On("drop-transport", (SocketEvent _) =>
    {
        socket.Connection.Close();
        return ValueTask.CompletedTask;
    });
    // Issue 15 (tests/interop/test/fidelity.test.js): flush then close, the handshake as Node serialises it, the
    // query with case-sensitive keys, the headers of the request that carried the packet.
    socket.On<int>("emit-then-close", count =>
    {
        for (var i = 1; i <= count; i++)
        {
            socket.Emit("n", i);
        }

        socket.Connection.Close();
    });
    socket.On("disconnect-and-close", (SocketEvent _) =>
    {
        socket.Disconnect(close: true);
        return ValueTask.CompletedTask;
    });
    socket.On("handshake", (SocketEvent e) =>
    {
        e.Ack(socket.Handshake);
        return ValueTask.CompletedTask;
    });
    socket.On("handshake-query", (SocketEvent e) =>
    {
        e.Ack(socket.Handshake.Query.ToDictionary(p => p.Key, p => p.Value.ToString()));
        return ValueTask.CompletedTask;
    });
    socket.On<string>("current-header", (name, ack) => ack(socket.Connection.CurrentRequestHeaders[name].ToString()));
    socket.On("disconnect-me", (SocketEvent _) =>
    {
        socket.Disconnect();
        return ValueTask.CompletedTask;
    });
});

var custom = io.Of("/custom");
custom.OnConnection(socket =>
{
    socket.Emit("hello-custom", custom.Name);
    socket.On<string>("echo", (text, ack) => ack("custom:" + text));
});

io.Of("/admin").Use((_, _) => throw new ConnectionRejectedException("forbidden"));

// A second endpoint with the MessagePack parser (socket.io-msgpack-parser clients; tests/interop/test/msgpack.test.js).
MapMsgPackEndpoint(app);

var dynamic = io.Of(new Regex(@"^/dyn-\d+$"));
dynamic.OnConnection(socket => socket.Emit("hello-dyn", socket.Namespace.Name));

app.Run();

static void MapMsgPackEndpoint(WebApplication app)
{
    var options = new SocketIOOptions { Parser = SocketIOParser.MessagePack };
    options.Engine.Path = "/msgpack/";
    var loggers = app.Services.GetRequiredService<ILoggerFactory>();
    var mp = new SocketIOServer(options, loggers);
    app.MapEngineIO(new Herald.EngineIO.EngineIOServer(options.Engine, mp, loggers));
    mp.OnConnection(socket =>
    {
        socket.Emit("hello", new { id = socket.Id, bytes = new byte[] { 1, 2, 3 }, n = 1.5, big = 1L << 40, neg = -7, nothing = (string?)null });
        socket.On("echo", (SocketEvent e) =>
        {
            e.Ack(e.GetRelayArgs());
            return ValueTask.CompletedTask;
        });
        socket.On<byte[]>("echo-binary", (bytes, ack) => ack(bytes));
        socket.On<string>("join", async (room, ack) =>
        {
            await socket.Join(room);
            ack();
        });
        socket.On<RoomRequest>("broadcast-room", (req, ack) =>
        {
            socket.To(req.Room).Emit("room-msg", req.Data, new byte[] { 9, 9 });
            ack();
        });
        socket.On<string>("ask-client", async (name, ack) =>
        {
            var reply = await socket.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync<string>(name, "question");
            ack(reply);
        });
    });
    mp.Of("/custom").OnConnection(socket => socket.Emit("hello-custom", socket.Namespace.Name, socket.Handshake.Auth));
}

// /sse-test/send?to=a&to=b&event=e (body: data text; no `to`: everyone), /close?to=..., /disconnect?client=...
static void MapSseTest(WebApplication app)
{
    var sse = app.MapServerSentEvents("/sse");
    var control = app.MapGroup("/sse-test");
    control.MapPost("/send", async (HttpRequest request) =>
    {
        var to = request.Query["to"];
        var eventName = request.Query["event"].ToString();
        var data = await new StreamReader(request.Body).ReadToEndAsync();
        if (to.Count == 0)
        {
            if (eventName.Length == 0) { sse.Send(data); } else { sse.Emit(eventName, data); }
        }
        else
        {
            var target = sse.To(to.ToArray()!);
            if (eventName.Length == 0) { target.Send(data); } else { target.Emit(eventName, data); }
        }

        return Results.Ok();
    });
    control.MapPost("/close", (HttpRequest request) =>
    {
        sse.To(request.Query["to"].ToArray()!).Close();
        return Results.Ok();
    });
    control.MapPost("/disconnect", (string client) =>
    {
        if (!sse.TryGetClient(client, out var c))
        {
            return Results.NotFound();
        }

        c.Disconnect();
        return Results.Ok();
    });
    control.MapGet("/connections", () => Results.Ok(new { count = sse.ConnectionCount }));
}

internal sealed record NestedFile(string Name, byte[] File);
internal sealed record ToRequest(string[] To, string[] Except, string Event, JsonElement Data);
internal sealed record RoomRequest(string Room, JsonElement Data);
internal sealed record AskRequest(string Event, int TimeoutMs);
internal sealed record AskRoomRequest(string Room, int TimeoutMs);
internal sealed record StreamRequest(string Event, int Count, int EveryMs);
