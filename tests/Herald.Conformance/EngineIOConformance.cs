using Herald.EngineIO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Conformance;

/// <summary>
/// The Engine.IO reference configuration of docs/engine.io-protocol/v4-test-suite: an echo server at
/// /engine.io/ on port 3000, pingInterval 300, pingTimeout 200, maxPayload 1e6, CORS "*".
/// </summary>
internal static class EngineIOConformance
{
    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (builder.Configuration["urls"] is null)
        {
            builder.WebHost.UseUrls("http://localhost:3000");
        }

        var app = builder.Build();
        app.MapEngineIO("/engine.io/", new EchoHandler(), options =>
        {
            options.PingInterval = TimeSpan.FromMilliseconds(300);
            options.PingTimeout = TimeSpan.FromMilliseconds(200);
            options.MaxHttpBufferSize = 1_000_000;
            options.Cors = new EngineIOCorsOptions { Origins = ["*"] };
        });
        await app.RunAsync();
    }

    /// <summary>Sends every message back as it came (text or binary).</summary>
    private sealed class EchoHandler : IEngineConnectionHandler, IEngineConnectionListener
    {
        public void OnOpen(EngineConnection connection) => connection.Listener = this;

        public void OnMessage(EngineConnection connection, ReadOnlySpan<byte> data, bool isBinary)
            => connection.Send(isBinary ? EngineMessage.FromBinary(data.ToArray()) : EngineMessage.FromText(data));

        public void OnClose(EngineConnection connection, string reason, Exception? error)
        {
        }
    }
}
