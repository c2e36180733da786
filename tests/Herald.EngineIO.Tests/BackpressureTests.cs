using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

/// <summary>The outbound bound: a client that stops reading is disconnected, the others keep receiving.</summary>
public class BackpressureTests
{
    [Fact]
    public async Task AClientThatStopsReading_IsDisconnected_AndAnotherKeepsReceiving()
    {
        using var metrics = new CounterRecorder();
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxOutboundBytes = 256 * 1024);
        host.Handler.Echo = false;

        // The slow client: a 4 KB receive window and no reads after the open packet.
        await using var slow = await RawWebSocketClient.ConnectAsync(host.BaseUri, "/engine.io/?EIO=4&transport=websocket", receiveBufferSize: 4096);
        var open = await slow.ReadFrameAsync().DefaultTimeout();
        var slowSid = JsonDocument.Parse(open!.Value.Payload.AsMemory(1)).RootElement.GetProperty("sid").GetString()!;
        var slowConnection = await host.Handler.WaitOpenedAsync(slowSid);

        await using var healthy = await host.ConnectWebSocketAsync();
        var healthyConnection = await host.Handler.WaitOpenedAsync(healthy.Sid!);

        // Lockstep: the same message (as a broadcast shares it) to both; the healthy client reads each one.
        var payload = new string('x', 16 * 1024);
        var sent = 0;
        while (slowConnection.Send(EngineMessage.FromText(Encoding.UTF8.GetBytes(payload))) || sent == 0)
        {
            var message = EngineMessage.FromText(Encoding.UTF8.GetBytes($"{sent}"));
            Assert.True(healthyConnection.Send(message));
            Assert.Equal($"4{sent}", (await healthy.ReceiveAsync())?.Text);
            sent++;
            Assert.True(sent < 5000, "the slow client was never cut off");
        }

        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(slowSid));
        await host.WaitForSessionCountAsync(1);
        Assert.False(slowConnection.Send(EngineMessage.FromText("late"u8)));

        // The server dropped the connection: what was buffered drains, then the stream ends.
        var bytes = await slow.DrainUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.True(bytes < sent * (long)(payload.Length + 10));
        Assert.True(metrics.Get("herald.engineio.slow_client_disconnects") >= 1);

        for (var i = 0; i < 20; i++)
        {
            Assert.True(healthyConnection.Send(EngineMessage.FromText(Encoding.UTF8.GetBytes($"after{i}"))));
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"4after{i}", (await healthy.ReceiveAsync())?.Text);
        }

        Assert.True(healthyConnection.IsConnected);
    }

    [Fact]
    public async Task Polling_OverTheMessageBound_ClosesTheSession()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxOutboundQueue = 2);
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        Assert.True(connection.Send(EngineMessage.FromText("1"u8)));
        Assert.True(connection.Send(EngineMessage.FromText("2"u8)));
        Assert.False(connection.Send(EngineMessage.FromText("3"u8)));
        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
        await host.WaitForSessionCountAsync(0);
        Assert.False(connection.Send(EngineMessage.FromText("4"u8)));
    }

    [Fact]
    public async Task Polling_WithinTheBound_TheQueueDrainsAndRefills()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxOutboundQueue = 2);
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        Assert.True(connection.Send([EngineMessage.FromText("1"u8), EngineMessage.FromText("2"u8)]));
        Assert.Equal(["41", "42"], (await client.PollAsync()).Select(p => p.ToString()));
        Assert.True(connection.Send([EngineMessage.FromText("3"u8), EngineMessage.FromText("4"u8)]));
        Assert.Equal(["43", "44"], (await client.PollAsync()).Select(p => p.ToString()));
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task ByteBound_AllowsOneBigMessage_ButNotABacklog()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxOutboundBytes = 1000);
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        var big = EngineMessage.FromText(new byte[2000]);
        Assert.True(connection.Send(big));
        Assert.Single(await client.PollAsync());

        Assert.True(connection.Send(EngineMessage.FromText(new byte[600])));
        Assert.False(connection.Send(EngineMessage.FromText(new byte[600])));
        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
    }

    [Fact]
    public async Task Volatile_IsDroppedAndCounted_WhenNotWritable()
    {
        using var metrics = new CounterRecorder();
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        // No GET pending: a volatile message is not buffered.
        Assert.False(connection.SendVolatile(EngineMessage.FromText("v"u8)));
        Assert.True(metrics.Get("herald.engineio.volatile_dropped") >= 1);

        var poll = client.PollAsync();
        await host.WaitForPendingPollAsync(client.Sid!);
        Assert.True(connection.SendVolatile(EngineMessage.FromText("w"u8)));
        Assert.Equal(["4w"], (await poll.DefaultTimeout()).Select(p => p.ToString()));
        Assert.True(connection.IsConnected);
    }
}

/// <summary>Sums the Herald.EngineIO counters while alive (process-wide: assert lower bounds, tests run in parallel).</summary>
internal sealed class CounterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _sums = new();

    public CounterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineIOMetrics.MeterName)
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
