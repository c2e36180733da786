using Herald.Bench.Peers.Ceiling;
using Herald.Bench.Shared;

var builder = BenchServerHost.CreateBuilder(args);
var app = builder.Build();
BenchServerHost.MapBenchEndpoints(app);
var hub = new CeilingHub();
app.Use(next => context => context.Request.Path.StartsWithSegments("/socket.io")
    ? hub.AcceptAsync(context)
    : next(context));
app.Run();
