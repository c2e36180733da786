using Herald.Bench.Shared;
using Microsoft.AspNetCore.SignalR;

// SignalR peer: the generator connects with skipNegotiation-style direct WebSocket to /hub and speaks
// the JSON hub protocol. Join(room) is invoked with an invocation id so the client knows when the
// group membership is in place; Pub(room, payload) is fire-and-forget and fans out as "msg".
var builder = BenchServerHost.CreateBuilder(args);
builder.Services.AddSignalR();
var app = builder.Build();
BenchServerHost.MapBenchEndpoints(app);
app.MapHub<BenchHub>("/hub");
app.Run();

/// <summary>The bench hub: join a group, publish to a group.</summary>
internal sealed class BenchHub : Hub
{
    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    public Task Pub(string room, string payload) => Clients.Group(room).SendAsync("msg", payload);
}
