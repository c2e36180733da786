using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Herald.Messaging;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Cluster.Tests;

/// <summary>
/// One Herald node: real Kestrel on 127.0.0.1:0, <c>AddSocketIO().AddClusterAdapter()</c> over the bus that
/// <c>configureBus</c> registers. Clients join the rooms listed in their CONNECT auth (<c>{"rooms":[...],"user":"x"}</c>)
/// in a middleware, so they are in their rooms when the CONNECT answer arrives. Disposing fails on Error logs.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ErrorLogCollector _errors;

    private ClusterNode(string name, WebApplication app, SocketIOServer io, Uri baseUri, ErrorLogCollector errors)
    {
        Name = name;
        _app = app;
        Io = io;
        BaseUri = baseUri;
        _errors = errors;
    }

    public string Name { get; }

    public SocketIOServer Io { get; }

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    public IMessageBus Bus => _app.Services.GetRequiredService<IMessageBus>();

    public ClusterAdapter Adapter => (ClusterAdapter)Io.Sockets.Adapter;

    public static ClusterAdapterOptions FastOptions(ClusterAdapterOptions o)
    {
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        o.HeartbeatTimeout = TimeSpan.FromSeconds(2); // 20 missed beats: a loaded 2-core CI machine stalls for a second at times
        o.RequestTimeout = TimeSpan.FromSeconds(10);
        return o;
    }

    public static async Task<ClusterNode> StartAsync(string name, Action<IServiceCollection> configureBus, Action<ClusterAdapterOptions>? configure = null, Action<SocketIOServer>? setup = null, Action<SocketIOOptions>? configureIo = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var errors = new ErrorLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.Services.AddSocketIO(o =>
        {
            o.Engine.PingInterval = TimeSpan.FromSeconds(20);
            configureIo?.Invoke(o);
        }).AddClusterAdapter(o =>
        {
            FastOptions(o);
            configure?.Invoke(o);
        });
        configureBus(builder.Services);
        builder.Services.AddHeraldMessaging(o => o.NodeName = name);
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
        setup?.Invoke(io);
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var node = new ClusterNode(name, app, io, new Uri(address), errors);
        await node.Adapter.Ready.DefaultTimeout();
        return node;
    }

    /// <summary>Connects a WebSocket client to <c>/</c> in <paramref name="rooms"/>; returns it and its socket id.</summary>
    public async Task<TestClient> ConnectAsync(string? user = null, params string[] rooms)
    {
        var client = await SocketIOTestClient.ConnectWebSocketAsync(BaseUri).DefaultTimeout();
        var auth = JsonSerializer.Serialize(new { rooms, user });
        var id = await client.ConnectAsync("/", auth).DefaultTimeout();
        return new TestClient(client, id, Name);
    }

    /// <summary>Completes once this node's adapter sees exactly <paramref name="others"/> other nodes.</summary>
    public Task WaitForNodesAsync(int others) => WaitForNodesAsync(Adapter, others);

    public static async Task WaitForNodesAsync(ClusterAdapter adapter, int others)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (adapter.Nodes.Count == others)
            {
                seen.TrySetResult();
            }
        }

        adapter.NodesChanged += Check;
        try
        {
            Check();
            await seen.Task.DefaultTimeout();
        }
        finally
        {
            adapter.NodesChanged -= Check;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        if (!_errors.Errors.IsEmpty)
        {
            throw new InvalidOperationException($"Unexpected error logs on {Name}:\n" + string.Join("\n", _errors.Errors));
        }
    }
}

/// <summary>A connected raw client with its socket id and node.</summary>
public sealed class TestClient(SocketIOTestClient client, string id, string node) : IAsyncDisposable
{
    public SocketIOTestClient Raw => client;

    public string Id => id;

    public string Node => node;

    /// <summary>The next packet's text (Socket.IO text without the Engine.IO <c>4</c>).</summary>
    public Task<string> NextAsync() => client.ReceiveTextAsync().DefaultTimeout();

    /// <summary>The next event, asserting its name, returning the packet text.</summary>
    public async Task<string> ExpectEventAsync(string name)
    {
        var packet = await NextAsync();
        Assert.Contains($"[\"{name}\"", packet);
        return packet;
    }

    /// <summary>Answers an event that asked for an ack (<c>2&lt;id&gt;[...]</c>) with <paramref name="answerJson"/>.</summary>
    public Task AckAsync(string eventPacket, string answerJson)
    {
        var digits = new string(eventPacket.Skip(1).TakeWhile(char.IsAsciiDigit).ToArray());
        Assert.NotEmpty(digits);
        return client.SendAsync("3" + digits + answerJson).DefaultTimeout();
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
