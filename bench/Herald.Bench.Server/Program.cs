using Herald.Bench.Shared;
using Herald.SocketIO;

// Herald target: the same application logic as every peer (see bench/peers/socketio/server.js):
//   "join" (room, ack)     -> socket.Join(room), then ack()
//   "pub"  (room, payload) -> io.To(room).Emit("msg", payload)
var builder = BenchServerHost.CreateBuilder(args);
builder.Services.AddSocketIO();
var app = builder.Build();
BenchServerHost.MapBenchEndpoints(app);
var io = app.MapSocketIO("/socket.io/");
io.OnConnection(socket =>
{
    socket.On<string>("join", async (room, ack) =>
    {
        await socket.Join(room);
        ack();
    });
    socket.On<string, string>("pub", (room, payload) => io.To(room).Emit("msg", payload));
});
app.Run();
