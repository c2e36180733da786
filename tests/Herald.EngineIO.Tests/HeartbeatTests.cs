using System.Net;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class HeartbeatTests
{
    private static Action<EngineIOOptions> Heartbeat(TimeProvider time) => o =>
    {
        o.TimeProvider = time;
        o.PingInterval = TimeSpan.FromSeconds(1);
        o.PingTimeout = TimeSpan.FromSeconds(1);
    };

    [Fact]
    public async Task Polling_PingAfterInterval_PongKeepsAlive_SilenceTimesOut()
    {
        var time = new ManualTimeProvider();
        await using var host = await EngineIOTestHost.StartAsync(Heartbeat(time));
        await using var client = await host.ConnectPollingAsync();

        var poll = client.PollAsync();
        await host.WaitForPendingPollAsync(client.Sid!);
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.False(poll.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.6));
        Assert.Equal(["2"], (await poll.DefaultTimeout()).Select(p => p.ToString()));

        using (var pong = await client.PostAsync("3"))
        {
            Assert.Equal(HttpStatusCode.OK, pong.StatusCode);
        }

        // 1.5 s after the pong: past the next ping, within its timeout.
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(["2"], (await client.PollAsync()).Select(p => p.ToString()));
        Assert.False(host.Handler.IsClosed(client.Sid!));

        time.Advance(TimeSpan.FromSeconds(0.6));
        Assert.Equal("ping timeout", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
        using var after = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task WebSocket_PingPong_ThenTimeoutClosesSocket()
    {
        var time = new ManualTimeProvider();
        await using var host = await EngineIOTestHost.StartAsync(Heartbeat(time));
        await using var client = await host.ConnectWebSocketAsync();

        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1.1));
            Assert.Equal("2", (await client.ReceiveAsync())?.Text);
            await client.SendTextAsync("3");

            // A message after the pong is echoed only once the pong was processed (one receive loop, in order).
            await client.SendTextAsync("4sync");
            Assert.Equal("4sync", (await client.ReceiveAsync())?.Text);
        }

        time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal("2", (await client.ReceiveAsync())?.Text);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await client.ReceiveUntilClosedAsync());
        Assert.Equal("ping timeout", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task ExpiredSession_IsRejectedEvenBeforeTheSweepRuns()
    {
        // The clock moves but the sweep timer never fires: only the check on access can close the session.
        var time = new ManualTimeProvider();
        await using var host = await EngineIOTestHost.StartAsync(Heartbeat(new NoTimersTimeProvider(time)));
        await using var client = await host.ConnectPollingAsync();

        time.Advance(TimeSpan.FromSeconds(1.9));
        using (var alive = await client.PostAsync("4x"))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(0.2));
        using var response = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"code\":1,\"message\":\"Session ID unknown\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal("ping timeout", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task PingFromClient_IsAProtocolError()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectWebSocketAsync();
        await client.SendTextAsync("2");
        Assert.Empty(await client.ReceiveUntilClosedAsync());
        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
    }

    private sealed class NoTimersTimeProvider(TimeProvider inner) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
