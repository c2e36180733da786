// rpc-server: a background service with no web server of its own. Every second it publishes `greeting` on
// the message channel and pushes to the browsers of web-server-1 and web-server-2, either over peer links to
// their channel endpoints (default, decentralised) or over Redis (--redis localhost:6379).
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Messaging.PeerLinks;
using Herald.Samples.RpcServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
var config = builder.Configuration;
builder.Services.AddHeraldMessaging(o => o.NodeName = config["node"] ?? "rpc-server");

var redis = config["redis"];
if (!string.IsNullOrEmpty(redis))
{
    builder.Services.AddHeraldRedis(redis);
}
else
{
    // --peers web-server-1=ws://localhost:5001/herald/channel,web-server-2=ws://localhost:5002/herald/channel
    var peers = config["peers"] ?? "web-server-1=ws://localhost:5001/herald/channel,web-server-2=ws://localhost:5002/herald/channel";
    builder.Services.AddHeraldPeerLinks(o =>
    {
        o.Key = config["key"] ?? "dev-channel-key";
        foreach (var peer in peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, uri) = (peer[..peer.IndexOf('=')], peer[(peer.IndexOf('=') + 1)..]);
            o.Peers.Add(new PeerLinkEndpoint(name, new Uri(uri)));
        }
    });
}

builder.Services.AddSingleton<SseEmitter>();
builder.Services.AddHostedService<Greeter>();
builder.Build().Run();

namespace Herald.Samples.RpcServer
{
    /// <summary>Publishes `greeting` every second and pushes it to the browsers of every web server.</summary>
    internal sealed partial class Greeter(IMessageChannel channel, SocketIOEmitter ws, SseEmitter sse, ILogger<Greeter> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var n = 0;
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                n++;
                var text = $"Hello, World! #{n} from {channel.NodeName}";
                try
                {
                    // app.message.publish("greeting", ...): every process subscribed to `greeting` that this one
                    // reaches (itself, and the web servers it links to) receives it.
                    await channel.PublishAsync("greeting", text, cancellationToken: stoppingToken);

                    // app.message.ws.emit(...): a `broadcast` cluster envelope on `sio:/`, delivered by the cluster
                    // adapter of every web server to its Socket.IO clients.
                    await ws.EmitAsync("greeting", text);

                    // app.message.ws.via("web-server-1").emit(...): on `sio:/:web-server-1`, that node only.
                    if (n % 5 == 0)
                    {
                        await ws.Via("web-server-1").EmitAsync("only-web-server-1", $"#{n}: for the clients of web-server-1 only");
                    }

                    // app.message.sse.emit(...): an `sse-send` envelope for every web server's EventSource clients.
                    await sse.EmitAsync("greeting", text, stoppingToken);
                    LogSent(logger, text);
                }
                catch (MessageBusException e)
                {
                    LogNotSent(logger, e.Message);
                }
            }
        }

        [LoggerMessage(1, LogLevel.Information, "Sent: {Text}")]
        private static partial void LogSent(ILogger logger, string text);

        [LoggerMessage(2, LogLevel.Warning, "Not sent: {Reason}")]
        private static partial void LogNotSent(ILogger logger, string reason);
    }
}
