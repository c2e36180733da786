using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Herald.EngineIO;
using Herald.Testing;

namespace Herald.SocketIO.Tests.Functional;

/// <summary>
/// The per-connection CONNECT limits (<see cref="SocketIOOptions.ConnectRateLimit"/>,
/// <see cref="SocketIOOptions.MaxNamespacesPerConnection"/>) over real Kestrel: what a client past them receives,
/// and that a client under them, or another connection, is unaffected. One class: the counters are process-wide.
/// </summary>
public class ConnectLimitTests
{
    private static void DynamicNamespaces(SocketIOServer io, ConcurrentBag<string>? middlewareRuns = null)
    {
        io.OnConnection(socket => socket.On<string>("ping", (text, ack) => ack(text)));
        io.Of(new Regex("^/n\\d+$")).Use((socket, next) =>
        {
            middlewareRuns?.Add(socket.Namespace.Name);
            return next();
        });
    }

    [Fact]
    public async Task ConnectRate_RefusesWithConnectError_ThenRefills_AndOtherConnectionsAreUnaffected()
    {
        var time = new ManualTimeProvider();
        var middlewareRuns = new ConcurrentBag<string>();
        using var counters = new SocketIOCounterRecorder();
        await using var host = await SocketIOTestHost.StartAsync(io => DynamicNamespaces(io, middlewareRuns), o =>
        {
            o.TimeProvider = time;
            o.ConnectRateLimit = new EngineIORateLimit { Burst = 3, PermitsPerSecond = 1 };
        });
        await using var client = await host.ConnectWebSocketAsync();

        // Under the limit: three CONNECTs (the burst) go through untouched.
        await client.ConnectAsync();
        await client.ConnectAsync("/n1");
        await client.ConnectAsync("/n2");

        await client.SendAsync("0/n3,");
        Assert.Equal("4/n3,{\"message\":\"Too many namespace connects\"}", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.False(host.Io.Namespaces.ContainsKey("/n3")); // refused before any dynamic child is created
        Assert.DoesNotContain("/n3", middlewareRuns);
        Assert.Equal(1, counters.Get("herald.socketio.connects_refused"));

        // The connection stays up and its sockets keep working.
        await client.SendAsync("21[\"ping\",\"still here\"]");
        Assert.Equal("31[\"still here\"]", await client.ReceiveTextAsync().DefaultTimeout());

        // Another connection has its own bucket.
        await using (var other = await host.ConnectWebSocketAsync())
        {
            await other.ConnectAsync();
            await other.ConnectAsync("/n3");
        }

        // The bucket refills at PermitsPerSecond.
        time.Advance(TimeSpan.FromSeconds(1.5));
        await client.ConnectAsync("/n3");
        Assert.Contains("/n3", middlewareRuns);
        await client.SendAsync("0/n4,");
        Assert.Equal("4/n4,{\"message\":\"Too many namespace connects\"}", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal(2, counters.Get("herald.socketio.connects_refused"));
        Assert.Equal(0, counters.Get("herald.socketio.connect_flood_disconnects"));
    }

    [Fact]
    public async Task ConnectRate_AClientThatKeepsSendingConnect_IsClosed()
    {
        using var counters = new SocketIOCounterRecorder();
        await using var host = await SocketIOTestHost.StartAsync(io => DynamicNamespaces(io), o =>
            o.ConnectRateLimit = new EngineIORateLimit { Burst = 4, PermitsPerSecond = 0.001 });
        await using var client = await host.ConnectWebSocketAsync();
        var first = await client.ConnectAsync();

        // Disconnecting and connecting again takes a token each time, like a new namespace: 4 CONNECTs, the burst.
        await client.SendAsync("1");
        Assert.NotEqual(first, await client.ConnectAsync());
        await client.ConnectAsync("/n1");
        await client.ConnectAsync("/n2");

        // Out of tokens: refusals 1 to 3 are answered, the 4th in a row (the burst) closes the connection.
        for (var i = 3; i < 6; i++)
        {
            await client.SendAsync($"0/n{i},");
            Assert.Equal($"4/n{i},{{\"message\":\"Too many namespace connects\"}}", await client.ReceiveTextAsync().DefaultTimeout());
        }

        await client.SendAsync("0/n6,");
        Assert.Empty(await client.ReceiveUntilClosedAsync().DefaultTimeout());
        Assert.Equal(4, counters.Get("herald.socketio.connects_refused"));
        Assert.Equal(1, counters.Get("herald.socketio.connect_flood_disconnects"));
        foreach (var refused in new[] { "/n3", "/n4", "/n5", "/n6" })
        {
            Assert.False(host.Io.Namespaces.ContainsKey(refused));
        }
    }

    [Fact]
    public async Task MaxNamespacesPerConnection_RefusesWithConnectError_UntilOneIsLeft()
    {
        using var counters = new SocketIOCounterRecorder();
        await using var host = await SocketIOTestHost.StartAsync(io => DynamicNamespaces(io), o =>
        {
            o.MaxNamespacesPerConnection = 3;
            o.ConnectRateLimit = null;
        });
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync();
        await client.ConnectAsync("/n1");
        var n2 = await client.ConnectAsync("/n2");

        await client.SendAsync("0/n3,");
        Assert.Equal("4/n3,{\"message\":\"Too many namespaces\"}", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal(1, counters.Get("herald.socketio.connects_refused"));

        // A CONNECT for a namespace already joined is not a new place: answered again with the same id.
        await client.SendAsync("0/n2,");
        Assert.Contains(n2, await client.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);

        // The connection stays up; leaving a namespace frees a place.
        await client.SendAsync("21[\"ping\",\"up\"]");
        Assert.Equal("31[\"up\"]", await client.ReceiveTextAsync().DefaultTimeout());
        await client.SendAsync("1/n1,");
        await client.ConnectAsync("/n3");
        Assert.Equal(1, counters.Get("herald.socketio.connects_refused"));
    }

    [Fact]
    public async Task UnderTheDefaults_ManyNamespacesAndReconnectsOnOneConnection_AreAccepted()
    {
        using var counters = new SocketIOCounterRecorder();
        await using var host = await SocketIOTestHost.StartAsync(io => DynamicNamespaces(io));
        Assert.Equal(100, host.Io.Options.MaxNamespacesPerConnection);
        Assert.Equal(100, host.Io.Options.ConnectRateLimit!.Burst);
        Assert.Equal(10, host.Io.Options.ConnectRateLimit.PermitsPerSecond);
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync();
        for (var i = 0; i < 20; i++)
        {
            await client.ConnectAsync($"/n{i}");
        }

        for (var i = 0; i < 20; i++)
        {
            await client.SendAsync("1/n0,");
            await client.ConnectAsync("/n0");
        }

        await client.SendAsync("21[\"ping\",\"fine\"]");
        Assert.Equal("31[\"fine\"]", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal(0, counters.Get("herald.socketio.connects_refused"));
    }

    [Fact]
    public void InvalidConnectLimits_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketIOServer(new SocketIOOptions { MaxNamespacesPerConnection = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketIOServer(new SocketIOOptions { ConnectRateLimit = new() { Burst = 0 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketIOServer(new SocketIOOptions { ConnectRateLimit = new() { PermitsPerSecond = 0 } }));
        _ = new SocketIOServer(new SocketIOOptions { ConnectRateLimit = null });
    }
}

/// <summary>Sums the Herald.SocketIO counters while alive (process-wide: only <see cref="ConnectLimitTests"/> refuses connects).</summary>
internal sealed class SocketIOCounterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public SocketIOCounterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Herald.SocketIO" && instrument.Name is "herald.socketio.connects_refused" or "herald.socketio.connect_flood_disconnects")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _sums.AddOrUpdate(instrument.Name, value, (_, old) => old + value));
        _listener.Start();
    }

    public long Get(string name) => _sums.TryGetValue(name, out var value) ? value : 0;

    public void Dispose() => _listener.Dispose();
}
