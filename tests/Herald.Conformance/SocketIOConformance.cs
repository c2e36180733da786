using Herald.EngineIO;
using Herald.SocketIO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Conformance;

/// <summary>
/// The Socket.IO reference configuration of docs/socket.io-protocol/v5-test-suite: /socket.io/ on port
/// 3000, pingInterval 300, pingTimeout 200, maxPayload 1e6, connectTimeout 1000, CORS "*"; on "/" the auth
/// payload is emitted back as "auth", "message" is echoed as "message-back" and "message-with-ack" is
/// acknowledged with its own arguments (binary included); on "/custom" the auth payload is emitted back.
/// </summary>
internal static class SocketIOConformance
{
    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (builder.Configuration["urls"] is null)
        {
            builder.WebHost.UseUrls("http://localhost:3000");
        }

        builder.Services.AddSocketIO(options =>
        {
            options.ConnectTimeout = TimeSpan.FromMilliseconds(1000);
            options.Engine.PingInterval = TimeSpan.FromMilliseconds(300);
            options.Engine.PingTimeout = TimeSpan.FromMilliseconds(200);
            options.Engine.MaxHttpBufferSize = 1_000_000;
            options.Engine.Cors = new EngineIOCorsOptions { Origins = ["*"] };
        });

        var app = builder.Build();
        var io = app.MapSocketIO("/socket.io/");
        io.OnConnection(socket =>
        {
            socket.Emit("auth", socket.Handshake.Auth);
            socket.On("message", e => socket.Emit("message-back", e.GetRelayArgs()));
            socket.On("message-with-ack", e => e.Ack(e.GetRelayArgs()));
        });
        io.Of("/custom").OnConnection(socket => socket.Emit("auth", socket.Handshake.Auth));
        await app.RunAsync();
    }
}
