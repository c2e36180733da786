using System.Collections.Concurrent;
using System.Net;
using Herald.EngineIO;
using Herald.SocketIO;
using Herald.Sse;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Real Kestrel on 127.0.0.1:0 serving Socket.IO (at /socket.io/, with handlers that echo, ack and join rooms) and SSE
/// (at /events), with short heartbeats so abandoned sessions end within seconds. Collects Error-level logs.
/// </summary>
internal sealed class FuzzHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FuzzHost(WebApplication app, EngineIOServer engine, SseServer sse, Uri baseUri, ErrorLogCollector errors)
    {
        _app = app;
        Engine = engine;
        Sse = sse;
        BaseUri = baseUri;
        Errors = errors;
    }

    public EngineIOServer Engine { get; }

    public SseServer Sse { get; }

    public Uri BaseUri { get; }

    public ErrorLogCollector Errors { get; }

    public static async Task<FuzzHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var errors = new ErrorLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.Services.AddServerSentEvents(o => o.HeartbeatInterval = TimeSpan.FromSeconds(1));
        var app = builder.Build();

        var options = new SocketIOOptions { ConnectTimeout = TimeSpan.FromSeconds(2) };
        options.Engine.PingInterval = TimeSpan.FromSeconds(1);
        options.Engine.PingTimeout = TimeSpan.FromSeconds(1);
        options.Engine.CloseTimeout = TimeSpan.FromSeconds(1);
        options.Engine.UpgradeTimeout = TimeSpan.FromSeconds(1);
        options.Engine.MaxHttpBufferSize = 64 * 1024;
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var io = new SocketIOServer(options, loggerFactory);
        io.OnConnection(socket =>
        {
            socket.Join("room");
            socket.OnAny((name, args) => socket.To("room").Emit("relay", name, args.Count));
            socket.On("ack", e =>
            {
                if (e.HasAck)
                {
                    e.Ack("ok", e.Args.Count);
                }
            });
        });
        io.Of("/admin").OnConnection(socket => socket.Emit("hello"));
        var engine = new EngineIOServer(options.Engine, io, loggerFactory);
        app.MapEngineIO(engine);
        var sse = app.MapServerSentEvents("/events");
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FuzzHost(app, engine, sse, new Uri(address), errors);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }
}
