using System.Net;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Sse.Tests;

/// <summary>
/// The SSE trust boundary (issue 13): a visitor never chooses its client id, never takes over another client's
/// stream by knowing its id, and never subscribes to reserved names or to another client's id.
/// </summary>
public class SseSecurityTests
{
    [Fact]
    public async Task ALastEventIdNamingAReservedRoomGetsAFreshIdAndNoneOfThatRoomsEvents()
    {
        await using var host = await SseTestHost.StartAsync();
        var (carol, carolId) = await host.ConnectOpenAsync();
        await using var carol_ = carol;
        Assert.True(host.Server.TryGetClient(carolId, out var carolClient));
        carolClient.Join("herald:u:carol");

        foreach (var forged in new[] { "a-1.herald:u:carol", "abcdefghij-1.herald:ch:board" })
        {
            await using var header = await host.ConnectAsync(lastEventId: forged).DefaultTimeout();
            await using var query = await host.ConnectAsync("?lastEventId=" + Uri.EscapeDataString(forged)).DefaultTimeout();
            foreach (var attacker in new[] { header, query })
            {
                Assert.Equal(HttpStatusCode.OK, attacker.StatusCode);
                var open = OpenPayload.Parse((await attacker.ReadEventAsync().DefaultTimeout()).Data);
                Assert.False(open.Resumed);
                Assert.Equal(22, open.ClientId.Length);
                Assert.DoesNotContain("herald:", attacker.LastEventId, StringComparison.Ordinal);
                Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await attacker.ReadEventAsync().DefaultTimeout()));
            }

            host.Server.To("herald:u:carol").Emit("mail", "for carol");
            host.Server.To("herald:ch:board").Emit("post", "for the board");
            host.Server.Emit("marker", "all");
            foreach (var attacker in new[] { header, query })
            {
                Assert.Equal(("marker", "all"), Tuple(await attacker.ReadEventAsync().DefaultTimeout()));
            }

            Assert.Equal(("mail", "for carol"), Tuple(await carol.ReadEventAsync().DefaultTimeout()));
            Assert.Equal(("marker", "all"), Tuple(await carol.ReadEventAsync().DefaultTimeout()));
        }
    }

    [Fact]
    public async Task KnowingAnotherClientsIdIsNotEnoughToTakeItsStreamOver()
    {
        await using var host = await SseTestHost.StartAsync();
        var (victim, victimId) = await host.ConnectOpenAsync();
        await using var victim_ = victim;
        host.Server.To(victimId).Emit("private", "before");
        Assert.Equal(("private", "before"), Tuple(await victim.ReadEventAsync().DefaultTimeout()));

        // The attacker learns this server's instance tag and the current sequence from its own stream, and the
        // victim's client id from somewhere else (a log, an admin screen, the app passing it around).
        var (own, _) = await host.ConnectOpenAsync();
        await using var own_ = own;
        var tag = own.LastEventId[..own.LastEventId.IndexOf('-', StringComparison.Ordinal)];
        var replaced = false;
        host.Server.ClientDisconnected += (c, r) => replaced |= c.Id == victimId;

        foreach (var forged in new[] { tag + "-0." + victimId, tag + "-0." + victimId + ".AAAAAAAAAAAAAAAAAAAAAA", tag + "-0.AAAAAAAAAAAAAAAAAAAAAA" })
        {
            var (attacker, attackerId) = await host.ConnectOpenAsync(lastEventId: forged);
            await using var attacker_ = attacker;
            Assert.NotEqual(victimId, attackerId);
            Assert.Equal("herald:missed", (await attacker.ReadEventAsync().DefaultTimeout()).Type);
            host.Server.To(victimId).Emit("private", "after");
            host.Server.Emit("marker", "all");
            Assert.Equal(("marker", "all"), Tuple(await attacker.ReadEventAsync().DefaultTimeout()));
            Assert.Equal(("private", "after"), Tuple(await victim.ReadEventAsync().DefaultTimeout()));
            Assert.Equal(("marker", "all"), Tuple(await victim.ReadEventAsync().DefaultTimeout()));
        }

        Assert.False(replaced);
        Assert.True(host.Server.TryGetClient(victimId, out var v) && v.IsConnected);
    }

    [Fact]
    public async Task TheIdLineCarriesAResumeTokenNotTheClientId()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync();
        await using var a_ = a;

        // {instance}-{seq}.{token}: as long as the id it replaces (no per-event cost), and not the id.
        var parts = a.LastEventId.Split('.');
        Assert.Equal(2, parts.Length);
        Assert.Equal(22, parts[1].Length);
        Assert.NotEqual(aId, parts[1]);
        Assert.DoesNotContain(aId, a.LastEventId, StringComparison.Ordinal);

        // The genuine id line still resumes.
        var gone = host.WhenDisconnected(aId);
        var last = a.LastEventId;
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        host.Server.To(aId).Emit("private", "missed");
        var (b, bId) = await host.ConnectOpenAsync(lastEventId: last);
        await using var b_ = b;
        Assert.Equal(aId, bId);
        Assert.Equal(("private", "missed"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
    }

    [Fact]
    public async Task ATopicNamedAfterAnotherClientsIdIsRefused()
    {
        await using var host = await SseTestHost.StartAsync();
        var (victim, victimId) = await host.ConnectOpenAsync();
        await using var victim_ = victim;

        await using var attacker = await host.ConnectAsync("?topic=" + Uri.EscapeDataString(victimId)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, attacker.StatusCode);
        Assert.Contains(host.Logs.Entries, e => e.EventId.Name == "TopicRefused");
    }

    [Theory]
    [InlineData("herald:m:User:UserAdded:42")]
    [InlineData("herald:s:someone-elses-session")]
    [InlineData("herald:u:carol")]
    [InlineData("herald:ch:board")]
    [InlineData("HERALD:u:carol")]
    public async Task ReservedTopicsFromTheQueryAreABadRequest(string topic)
    {
        await using var host = await SseTestHost.StartAsync();
        await using var attacker = await host.ConnectAsync("?topic=ok&topic=" + Uri.EscapeDataString(topic)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, attacker.StatusCode);
        Assert.Equal(0, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task AReservedClientIdFromTheAuthorizationHookIsRefused()
    {
        await using var host = await SseTestHost.StartAsync(o => o.Authorize = _ => ValueTask.FromResult(SseAuthorizationResult.Accept("herald:u:carol")));
        host.AllowErrors = true;
        await using var client = await host.ConnectAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.InternalServerError, client.StatusCode);
        Assert.False(host.Server.TryGetClient("herald:u:carol", out _));
    }

    [Fact]
    public async Task AResumeFromAnotherOwnerGetsAFreshId()
    {
        // The owner (the session layer passes the herald.sid session) is part of what the proof covers.
        await using var host = await SseTestHost.StartAsync(o => o.Authorize = ctx =>
            ValueTask.FromResult(SseAuthorizationResult.Accept(null, null, owner: ctx.Request.Headers["X-Owner"].ToString())));
        await using var a = await host.ConnectAsync(configure: r => r.Headers.Add("X-Owner", "alice")).DefaultTimeout();
        var aId = OpenPayload.Parse((await a.ReadEventAsync().DefaultTimeout()).Data).ClientId;
        Assert.True(host.Server.TryGetClient(aId, out var aClient));
        Assert.Equal("alice", aClient.Owner);

        await using var mallory = await host.ConnectAsync(lastEventId: a.LastEventId, configure: r => r.Headers.Add("X-Owner", "mallory")).DefaultTimeout();
        var open = OpenPayload.Parse((await mallory.ReadEventAsync().DefaultTimeout()).Data);
        Assert.NotEqual(aId, open.ClientId);
        Assert.False(open.Resumed);
        Assert.True(aClient.IsConnected);

        await using var again = await host.ConnectAsync(lastEventId: a.LastEventId, configure: r => r.Headers.Add("X-Owner", "alice")).DefaultTimeout();
        var resumed = OpenPayload.Parse((await again.ReadEventAsync().DefaultTimeout()).Data);
        Assert.Equal(aId, resumed.ClientId);
        Assert.True(resumed.Resumed);
    }

    [Fact]
    public async Task WithoutASharedResumeKeyAnotherNodeStartsAFreshClient()
    {
        // The default key is random per process: a node that cannot check the proof does not trust the id.
        var store = new InMemorySseHistoryStore(256);
        await using var node1 = await SseTestHost.StartAsync(o => o.ResumeKey = null, services: s => s.AddSingleton<ISseHistoryStore>(store));
        await using var node2 = await SseTestHost.StartAsync(o => o.ResumeKey = null, services: s => s.AddSingleton<ISseHistoryStore>(store));
        var (a, aId) = await node1.ConnectOpenAsync();
        var last = a.LastEventId;
        await a.DisposeAsync();

        var (b, bId) = await node2.ConnectOpenAsync(lastEventId: last);
        await using var b_ = b;
        Assert.NotEqual(aId, bId);
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
    }

    [Fact]
    public async Task AShortResumeKeyIsRefusedAtStart()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => SseTestHost.StartAsync(o => o.ResumeKey = "short"));
        Assert.Contains("ResumeKey", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectingAndDroppingInALoopKeepsAtMostMaxDisconnectedClients()
    {
        await using var host = await SseTestHost.StartAsync(o => o.MaxDisconnectedClients = 2);
        var dropped = new List<(string Id, string LastEventId)>();
        for (var i = 0; i < 5; i++)
        {
            var (c, id) = await host.ConnectOpenAsync("?topic=t" + i);
            var gone = host.WhenDisconnected(id);
            var last = c.LastEventId;
            await c.DisposeAsync();
            await gone.DefaultTimeout();
            dropped.Add((id, last));
        }

        // The oldest three are forgotten (with their topics), the newest two are still resumable.
        Assert.Equal([false, false, false, true, true], dropped.Select(d => host.Server.TryGetClient(d.Id, out _)));
        var (first, firstId) = await host.ConnectOpenAsync(lastEventId: dropped[0].LastEventId);
        await using var first_ = first;
        Assert.Equal(("herald:missed", "{\"reason\":\"expired\"}"), Tuple(await first.ReadEventAsync().DefaultTimeout()));
        Assert.True(host.Server.TryGetClient(firstId, out var restarted));
        Assert.Empty(restarted.Topics);

        await using var last_ = await host.ConnectAsync(lastEventId: dropped[4].LastEventId).DefaultTimeout();
        var open = OpenPayload.Parse((await last_.ReadEventAsync().DefaultTimeout()).Data);
        Assert.Equal((dropped[4].Id, true), (open.ClientId, open.Resumed));
    }

    private static (string? Type, string Data) Tuple(SseTestEvent e) => (e.Type, e.Data);
}
