using Herald.Bench.Shared;
using Herald.SocketIO;

// Herald target: the same application logic as every peer (see bench/peers/socketio/server.js):
//   "join" (room, ack)     -> socket.Join(room), then ack()
//   "pub"  (room, payload) -> io.To(room).Emit("msg", payload)
// Wired with SocketIOServer + MapEngineIO until AddSocketIO/MapSocketIO land; then it switches to them.
var builder = BenchServerHost.CreateBuilder(args);
var app = builder.Build();
BenchServerHost.MapBenchEndpoints(app);
var io = new SocketIOServer(new SocketIOOptions(), app.Services.GetRequiredService<ILoggerFactory>());
app.MapEngineIO("/socket.io/", io);
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
