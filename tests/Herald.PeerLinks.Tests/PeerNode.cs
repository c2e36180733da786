using System.Net;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.PeerLinks.Tests;

/// <summary>A Herald node on real Kestrel (127.0.0.1, a free port or a given one) exposing its channel at /herald/channel.</summary>
internal sealed class PeerNode : IAsyncDisposable
{
    public const string Key = "test-shared-key";

    private readonly WebApplication _app;
    private bool _stopped;

    private PeerNode(WebApplication app, int port, TestLogSink logs)
    {
        _app = app;
        Port = port;
        Logs = logs;
    }

    public int Port { get; }

    public TestLogSink Logs { get; }

    public IServiceProvider Services => _app.Services;

    public PeerLinkMessageBus Bus => _app.Services.GetRequiredService<PeerLinkMessageBus>();

    public IMessageChannel Channel => _app.Services.GetRequiredService<IMessageChannel>();

    public Uri ChannelUri => new($"ws://127.0.0.1:{Port}/herald/channel");

    public string HttpBase => $"http://127.0.0.1:{Port}";

    public static async Task<PeerNode> StartAsync(string name, int port = 0, Action<IServiceCollection>? services = null, Action<WebApplication>? map = null)
    {
        var logs = new TestLogSink();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddHeraldMessaging(o => o.NodeName = name);
        services?.Invoke(builder.Services);
        builder.Services.AddHeraldPeerLinks(o => Fast(o));
        builder.Services.AddHeraldChannel(o => o.Key = Key);
        var app = builder.Build();
        app.MapHeraldChannel();
        map?.Invoke(app);
        await app.StartAsync().DefaultTimeout();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new PeerNode(app, address.Port, logs);
    }

    /// <summary>Link options for tests: quick reconnection.</summary>
    public static PeerLinkOptions Fast(PeerLinkOptions o)
    {
        o.Key = Key;
        o.ReconnectDelay = TimeSpan.FromMilliseconds(50);
        o.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
        return o;
    }

    /// <summary>Stops the node: its linked nodes see their links drop.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
