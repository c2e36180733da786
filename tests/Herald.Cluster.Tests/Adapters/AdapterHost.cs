using System.Net;
using System.Text.Json;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Cluster.Tests.Adapters;

/// <summary>
/// One Socket.IO server on real Kestrel (127.0.0.1:0) whose adapter <c>configure</c> chooses, with connection-state
/// recovery on. Clients join the rooms of their CONNECT auth (<c>{"rooms":[...],"user":"x"}</c>) in a middleware.
/// Disposing fails on Error logs.
/// </summary>
public sealed class AdapterHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ErrorLogCollector _errors;

    private AdapterHost(WebApplication app, SocketIOServer io, Uri baseUri, ErrorLogCollector errors)
    {
        _app = app;
        Io = io;
        BaseUri = baseUri;
        _errors = errors;
    }

    public SocketIOServer Io { get; }

    public Uri BaseUri { get; }

    public IAdapter Adapter => Io.Sockets.Adapter;

    public static async Task<AdapterHost> StartAsync(Action<IServiceCollection> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var errors = new ErrorLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.Services.AddSocketIO(o =>
        {
            o.Engine.PingInterval = TimeSpan.FromSeconds(20);
            o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions();
        });
        configure(builder.Services);
        var app = builder.Build();
        var io = app.MapSocketIO();
        io.Use(async (socket, next) =>
        {
            var auth = socket.Handshake.Auth;
            if (auth.ValueKind == JsonValueKind.Object)
            {
                if (auth.TryGetProperty("rooms", out var rooms))
                {
                    await socket.Join(rooms.EnumerateArray().Select(r => r.GetString()!).ToArray());
                }

                if (auth.TryGetProperty("user", out var user))
                {
                    socket.Data["user"] = user.GetString();
                }
            }

            await next();
        });
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new AdapterHost(app, io, new Uri(address), errors);
        if (host.Adapter is Herald.SocketIO.Cluster.ClusterAdapter cluster)
        {
            await cluster.Ready.DefaultTimeout();
        }

        return host;
    }

    /// <summary>Connects a WebSocket client to <c>/</c> with <paramref name="auth"/>; returns it with the sid and pid (null when none) of the answer.</summary>
    public async Task<(TestClient Client, string? Pid)> ConnectAsync(object auth)
    {
        var client = await SocketIOTestClient.ConnectWebSocketAsync(BaseUri).DefaultTimeout();
        await client.SendAsync("0" + JsonSerializer.Serialize(auth)).DefaultTimeout();
        var answer = await client.ReceiveTextAsync().DefaultTimeout();
        Assert.StartsWith("0{", answer);
        var data = JsonDocument.Parse(answer[1..]).RootElement;
        var pid = data.TryGetProperty("pid", out var p) ? p.GetString() : null;
        return (new TestClient(client, data.GetProperty("sid").GetString()!, "local"), pid);
    }

    public async Task<TestClient> ConnectAsync(params string[] rooms) => (await ConnectAsync(new { rooms })).Client;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        if (!_errors.Errors.IsEmpty)
        {
            throw new InvalidOperationException("Unexpected error logs:\n" + string.Join("\n", _errors.Errors));
        }
    }
}
