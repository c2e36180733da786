using Herald.Testing;

namespace Herald.SocketIO.Tests.Functional;

/// <summary>
/// Security audit (issue 13) on real Kestrel: a client cannot flood the logs with handler errors, nor hold more than
/// the payload bound in attachments of a packet still being reassembled.
/// </summary>
public sealed class TrustBoundaryTests
{
    [Fact]
    public async Task Two_thousand_failing_events_log_at_most_the_error_burst_per_connection()
    {
        var time = new ManualTimeProvider(); // frozen clock: the bucket never refills during the test
        await using var host = await SocketIOTestHost.StartAsync(
            io => io.OnConnection(socket =>
            {
                socket.On("boom", (SocketEvent _) => ValueTask.FromException(new InvalidOperationException("handler bug")));
                socket.On("sync", (SocketEvent e) =>
                {
                    e.Ack("done");
                    return ValueTask.CompletedTask;
                });
            }),
            o => o.TimeProvider = time);
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync().DefaultTimeout();
        for (var i = 0; i < 2000; i++)
        {
            await client.SendAsync("""2["boom"]""").DefaultTimeout();
        }

        await client.SendAsync("""21["sync"]""").DefaultTimeout();
        Assert.Equal("""31["done"]""", await client.ReceiveTextAsync().DefaultTimeout());

        const int burst = 10; // SocketIOOptions.HandlerErrorLogRateLimit's default burst
        Assert.Equal(burst, new SocketIOOptions().HandlerErrorLogRateLimit!.Burst);
        var logged = host.Errors.Errors.ToArray();
        Assert.InRange(logged.Length, 1, burst);
        Assert.All(logged, l => Assert.Contains("boom", l, StringComparison.Ordinal));
        host.Errors.Errors.Clear();

        // A second later the bucket has a token again: the next failure is logged, saying how many were left out.
        time.Advance(TimeSpan.FromSeconds(1));
        await client.SendAsync("""2["boom"]""").DefaultTimeout();
        await client.SendAsync("""22["sync"]""").DefaultTimeout();
        Assert.Equal("""32["done"]""", await client.ReceiveTextAsync().DefaultTimeout());
        var next = Assert.Single(host.Errors.Errors);
        Assert.Contains($"({2000 - burst} earlier failures", next, StringComparison.Ordinal);
        host.Errors.Errors.Clear();
    }

    [Fact]
    public async Task A_client_chosen_event_name_is_clipped_in_the_error_log()
    {
        await using var host = await SocketIOTestHost.StartAsync(
            io => io.OnConnection(socket => socket.OnAny((_, _) => throw new InvalidOperationException("listener bug"))));
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync().DefaultTimeout();
        var name = new string('x', 5000) + "\nforged log line";
        await client.SendAsync("2[\"" + name.Replace("\n", "\\n", StringComparison.Ordinal) + "\"]").DefaultTimeout();
        await client.SendAsync("0/nope,").DefaultTimeout(); // always answered, after the event
        await client.ReceiveTextAsync().DefaultTimeout();
        var line = Assert.Single(host.Errors.Errors);
        Assert.DoesNotContain(new string('x', 200), line, StringComparison.Ordinal);
        Assert.DoesNotContain("\nforged", line, StringComparison.Ordinal);
        host.Errors.Errors.Clear();
    }

    [Fact]
    public async Task Attachments_of_one_packet_over_the_payload_bound_close_the_connection()
    {
        await using var host = await SocketIOTestHost.StartAsync(
            io => io.OnConnection(socket => socket.On("up", (SocketEvent _) => ValueTask.CompletedTask)),
            o =>
            {
                o.Engine.MaxHttpBufferSize = 10_000;
                o.MaxAttachments = 10;
            });
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync().DefaultTimeout();
        // Three attachments announced; each is under the per-message bound, the first two together are over it.
        await client.SendAsync("""53-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]""").DefaultTimeout();
        await client.SendBinaryAsync(new byte[6_000]).DefaultTimeout();
        await client.SendBinaryAsync(new byte[6_000]).DefaultTimeout();
        Assert.Empty(await client.ReceiveUntilClosedAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Attachments_within_the_payload_bound_are_delivered()
    {
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await SocketIOTestHost.StartAsync(
            io => io.OnConnection(socket => socket.On<byte[], byte[]>("up", (a, b) => received.TrySetResult(a.Length + b.Length))),
            o => o.Engine.MaxHttpBufferSize = 10_000);
        await using var client = await host.ConnectWebSocketAsync();
        await client.ConnectAsync().DefaultTimeout();
        await client.SendAsync("""52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""").DefaultTimeout();
        await client.SendBinaryAsync(new byte[4_000]).DefaultTimeout();
        await client.SendBinaryAsync(new byte[4_000]).DefaultTimeout();
        Assert.Equal(8_000, await received.Task.DefaultTimeout());
    }
}
