using System.Net;
using Herald.Testing;
using static Herald.Sse.Tests.SseEndpointTests;

namespace Herald.Sse.Tests;

public class SseReplayTests
{
    [Fact]
    public async Task AReconnectWithLastEventIdGetsWhatItMissedInOrder()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync("?topic=room");
        Assert.True(host.Server.TryGetClient(aId, out var client));
        client.Join("joined-by-server");
        host.Server.Send("1");
        Assert.Equal(["1"], await ReadData(a, 1));
        var last = a.LastEventId;
        var gone = host.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();

        // While it is away: every kind of audience, one event addressed twice, one not for it.
        host.Server.Send("2");
        host.Server.To("room").Send("3");
        host.Server.To(aId).Emit("direct", "4");
        host.Server.To("room", aId, "joined-by-server").Send("5");
        host.Server.To("other").Send("not for a");
        host.Server.To("late").Send("before the join");
        client.Join("late");
        host.Server.To("late").Send("6");
        host.Server.To("joined-by-server").Send("7");

        var (b, bId) = await host.ConnectOpenAsync("?topic=room", last);
        await using var b_ = b;
        Assert.Equal(aId, bId);
        var replayed = new List<Testing.Sse.SseTestEvent>();
        for (var i = 0; i < 6; i++)
        {
            replayed.Add(await b.ReadEventAsync().DefaultTimeout());
        }

        Assert.Equal(["2", "3", "4", "5", "6", "7"], replayed.Select(e => e.Data));
        Assert.Equal("direct", replayed[2].Type);
        var seqs = replayed.Select(e => long.Parse(e.LastEventId.Split('.')[0].Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());

        host.Server.Send("live");
        Assert.Equal(["live"], await ReadData(b, 1));
        Assert.Equal(["joined-by-server", "late", "room"], client.Topics.Order());
    }

    [Fact]
    public async Task DisconnectEndsTheStreamAfterWhatIsQueuedAndIsNotFinal()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync("?topic=room");
        Assert.True(host.Server.TryGetClient(aId, out var client));
        var gone = host.WhenDisconnected(aId);
        host.Server.Send("queued before");
        client.Disconnect();
        host.Server.To("room").Send("after");
        client.Disconnect(); // twice, and while away: nothing happens

        Assert.Equal(["queued before"], (await a.ReadToEndAsync().DefaultTimeout()).Select(e => e.Data));
        Assert.Equal(SseDisconnectReason.DisconnectedByServer, await gone.DefaultTimeout());
        client.Disconnect();

        var (b, bId) = await host.ConnectOpenAsync("?topic=room", a.LastEventId);
        await using var b_ = b;
        await a.DisposeAsync();
        Assert.Equal(aId, bId);
        Assert.Equal(["after"], await ReadData(b, 1));
    }

    [Fact]
    public async Task TheOpenEventOfAResumeSaysSoAndTheQueryCanCarryTheLastEventId()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync();
        var last = a.LastEventId;
        var gone = host.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        host.Server.Send("missed");

        await using var b = await host.ConnectAsync("?lastEventId=" + Uri.EscapeDataString(last)).DefaultTimeout();
        var open = OpenPayload.Parse((await b.ReadEventAsync().DefaultTimeout()).Data);
        Assert.True(open.Resumed);
        Assert.Equal(aId, open.ClientId);
        Assert.Equal(["missed"], await ReadData(b, 1));
    }

    [Fact]
    public async Task BeyondTheReplayWindowTheClientIsToldItMissedData()
    {
        var time = new ManualTimeProvider();
        await using var host = await SseTestHost.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.ReplayWindow = TimeSpan.FromMinutes(1);
            o.HeartbeatInterval = TimeSpan.FromSeconds(15);
        });
        var (a, aId) = await host.ConnectOpenAsync("?topic=t");
        var last = a.LastEventId;
        var gone = host.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        host.Server.To("t").Send("lost");

        time.Advance(TimeSpan.FromSeconds(61));

        var (b, bId) = await host.ConnectOpenAsync("?topic=t", last);
        await using var b_ = b;
        Assert.Equal(aId, bId);
        var missed = await b.ReadEventAsync().DefaultTimeout();
        Assert.Equal(("herald:missed", "{\"reason\":\"expired\"}"), Tuple(missed));
        host.Server.To("t").Send("fresh");
        Assert.Equal(["fresh"], await ReadData(b, 1));
    }

    [Fact]
    public async Task WithinTheWindowButPastTheHistoryTheClientIsToldThenGetsWhatRemains()
    {
        await using var host = await SseTestHost.StartAsync(o => o.MaxHistory = 2);
        var (a, aId) = await host.ConnectOpenAsync();
        var last = a.LastEventId;
        var gone = host.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        foreach (var n in new[] { "1", "2", "3", "4" })
        {
            host.Server.Send(n);
        }

        var (b, _) = await host.ConnectOpenAsync(lastEventId: last);
        await using var b_ = b;
        Assert.Equal(("herald:missed", "{\"reason\":\"history\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(["3", "4"], await ReadData(b, 2));
    }

    [Fact]
    public async Task AnUnknownLastEventIdGetsANewIdAndAMissedEvent()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync(lastEventId: "from-another-server");
        await using var a_ = a;
        Assert.Equal(22, aId.Length);
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await a.ReadEventAsync().DefaultTimeout()));

        // A client never picks its id: a well-formed id line without the server's proof is a new client.
        var (b, bId) = await host.ConnectOpenAsync(lastEventId: "zzzz-5.someone");
        await using var b_ = b;
        Assert.NotEqual("someone", bId);
        Assert.Equal(22, bId.Length);
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
    }

    [Fact]
    public async Task ASecondConnectionWithTheSameIdReplacesTheFirst()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync();
        await using var a_ = a;
        var replaced = host.WhenDisconnected(aId);

        var (b, bId) = await host.ConnectOpenAsync(lastEventId: a.LastEventId);
        await using var b_ = b;
        Assert.Equal(aId, bId);
        Assert.Equal(SseDisconnectReason.Replaced, await replaced.DefaultTimeout());
        await a.ReadToEndAsync().DefaultTimeout();

        host.Server.To(aId).Send("to the new one");
        Assert.Equal(["to the new one"], await ReadData(b, 1));
        Assert.Equal(1, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task OneSharedTimerSendsHeartbeatCommentsToEveryClient()
    {
        var time = new ManualTimeProvider();
        await using var host = await SseTestHost.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.HeartbeatInterval = TimeSpan.FromSeconds(10);
        });
        var (a, _) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("", await a.ReadCommentAsync().DefaultTimeout());
        Assert.Equal("", await b.ReadCommentAsync().DefaultTimeout());

        time.Advance(TimeSpan.FromSeconds(10));
        host.Server.Send("after two beats");
        Assert.Equal(["after two beats"], await ReadData(a, 1));
        Assert.Equal(2, a.Comments.Count);
    }

    [Fact]
    public async Task AClosedIdIsForgottenAfterItsRetention()
    {
        var time = new ManualTimeProvider();
        await using var host = await SseTestHost.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.HeartbeatInterval = TimeSpan.FromSeconds(10);
            o.ClosedClientRetention = TimeSpan.FromSeconds(30);
        });
        var (a, aId) = await host.ConnectOpenAsync();
        await using var a_ = a;
        host.Server.To(aId).Close();
        await a.ReadToEndAsync().DefaultTimeout();

        await using (var refused = await host.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.NoContent, refused.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(40));
        var (b, bId) = await host.ConnectOpenAsync(lastEventId: a.LastEventId);
        await using var b_ = b;
        Assert.Equal(aId, bId);
    }
}
