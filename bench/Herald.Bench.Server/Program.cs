using Herald.Bench.Shared;
using Herald.SocketIO;

// Herald target: the same application logic as every peer (see bench/peers/socketio/server.js):
//   "join" (room, ack)     -> socket.Join(room), then ack()
//   "pub"  (room, payload) -> io.To(room).Emit("msg", payload)
// and for the sse scenario, Server-Sent Events at /bench/sse (EventSource clients ask for ?topic=bench):
//   "pub-sse" (topic, payload) -> sse.To(topic).Send(payload)
var builder = BenchServerHost.CreateBuilder(args);
builder.Services.AddSocketIO();
builder.Services.AddServerSentEvents();
var app = builder.Build();
BenchServerHost.MapBenchEndpoints(app);
Herald.Bench.Server.EngineCounters.Map(app);
var io = app.MapSocketIO("/socket.io/");
var sse = app.MapServerSentEvents("/bench/sse");
io.OnConnection(socket =>
{
    socket.On<string>("join", async (room, ack) =>
    {
        await socket.Join(room);
        ack();
    });
    socket.On<string, string>("pub", (room, payload) => io.To(room).Emit("msg", payload));
    socket.On<string, string>("pub-sse", (topic, payload) => sse.To(topic).Send(payload));
});
app.Run();
