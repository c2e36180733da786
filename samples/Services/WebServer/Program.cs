// web-server-N: a front end holding browser connections (Socket.IO at /socket.io/, SSE at /events, demo page
// at /). Pushes from services reach its clients through its message bus: either a service links to its
// channel endpoint (/herald/channel, shared key) or every process shares Redis (--redis localhost:6379).
//   dotnet run --project samples/Services/WebServer -- --node web-server-1 --urls http://localhost:5001
using Herald.Messaging;

var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
var node = config["node"] ?? "web-server-1";
builder.Services.AddHeraldMessaging(o => o.NodeName = node);
var redis = config["redis"];
if (!string.IsNullOrEmpty(redis))
{
    builder.Services.AddHeraldRedis(redis);
}

builder.Services.AddSocketIO().AddClusterAdapter();
builder.Services.AddServerSentEvents();
builder.Services.AddHeraldChannel(o => o.Key = config["key"] ?? "dev-channel-key");

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();
var io = app.MapSocketIO("/socket.io");
io.OnConnection(socket => { socket.Emit("welcome", $"connected to {node}"); });
app.MapServerSentEvents("/events");
app.MapHeraldChannel("/herald/channel");
app.MapGet("/node", () => Results.Text(node));

// The message channel: what linked services (or Redis) publish on `greeting` arrives here too.
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("greeting");
app.Services.GetRequiredService<IMessageChannel>().Subscribe<string>("greeting", text => logger.LogInformation("Topic greeting: {Text}", text));

app.Run();
