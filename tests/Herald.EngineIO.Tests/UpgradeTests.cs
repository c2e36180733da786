using System.Net;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class UpgradeTests
{
    [Fact]
    public async Task UpgradesFromPolling_PendingPollGetsNoop_QueuedMessagesMoveToWebSocket()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        var pendingPoll = client.PollAsync();
        await host.WaitForPendingPollAsync(client.Sid!);
        await client.OpenWebSocketAsync(withSid: true);
        await client.ProbeAsync();
        Assert.Equal(["6"], (await pendingPoll.DefaultTimeout()).Select(p => p.ToString()));

        // Sent during the upgrade: must not be lost, must arrive over the WebSocket.
        Assert.True(connection.Send(EngineMessage.FromText("during"u8)));
        await client.SendTextAsync("5");
        Assert.Equal("4during", (await client.ReceiveAsync())?.Text);
        Assert.Equal("websocket", connection.TransportName);

        await client.SendTextAsync("4hello");
        Assert.Equal("4hello", (await client.ReceiveAsync())?.Text);

        using var poll = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, poll.StatusCode);
        Assert.Equal("{\"code\":3,\"message\":\"Bad request\"}", await poll.Content.ReadAsStringAsync());
        Assert.Equal(1, host.Server.SessionCount);
    }

    [Fact]
    public async Task SecondWebSocketForUpgradedSession_IsClosed_FirstKeepsWorking()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        await client.OpenWebSocketAsync(withSid: true);
        await client.ProbeAsync();
        await client.SendTextAsync("5");

        await using var intruder = EngineIOTestClient.Create(host.BaseUri);
        intruder.Sid = client.Sid;
        await intruder.OpenWebSocketAsync(withSid: true);
        Assert.Empty(await intruder.ReceiveUntilClosedAsync());

        await client.SendTextAsync("4still");
        Assert.Equal("4still", (await client.ReceiveAsync())?.Text);
        Assert.False(host.Handler.IsClosed(client.Sid!));
    }

    [Fact]
    public async Task FailedProbe_LeavesSessionOnPolling()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        await client.OpenWebSocketAsync(withSid: true);
        await client.SendTextAsync("4not a probe");
        Assert.Empty(await client.ReceiveUntilClosedAsync());

        using (var post = await client.PostAsync("4after"))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        Assert.Equal(["4after"], (await client.PollAsync()).Select(p => p.ToString()));
        Assert.Equal(1, host.Server.SessionCount);
    }

    [Fact]
    public async Task UpgradeTimeout_ClosesProbeWebSocket_SessionGoesOnPolling()
    {
        var time = new ManualTimeProvider();
        await using var host = await EngineIOTestHost.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.UpgradeTimeout = TimeSpan.FromSeconds(1);
        });
        await using var client = await host.ConnectPollingAsync();
        await client.OpenWebSocketAsync(withSid: true);
        await client.ProbeAsync();

        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Empty(await client.ReceiveUntilClosedAsync());

        using (var post = await client.PostAsync("4x"))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        Assert.Equal(["4x"], (await client.PollAsync()).Select(p => p.ToString()));
        Assert.False(host.Handler.IsClosed(client.Sid!));
    }
}
