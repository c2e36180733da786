using System.Net;
using Herald.Testing;
using Herald.Sse.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Herald.Sse.Tests.SseEndpointTests;

namespace Herald.Sse.Tests;

/// <summary>Two SSE nodes sharing one in-memory store.</summary>
public sealed class InMemorySseCrossNodeTests : SseCrossNodeTests
{
    private InMemorySseHistoryStore? _store;

    protected override ISseHistoryStore StoreForNode(int maxEventsPerAudience)
        => _store ??= new InMemorySseHistoryStore(maxEventsPerAudience);
}

/// <summary>Two SSE nodes, each with its own connection to one real redis-server.</summary>
public sealed class RedisSseCrossNodeTests : SseCrossNodeTests, IAsyncLifetime
{
    private readonly List<Herald.Redis.HeraldRedisConnection> _connections = [];
    private RedisServerFixture? _redis;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    protected override ISseHistoryStore StoreForNode(int maxEventsPerAudience)
    {
        // Each node on its own connection, as two processes would be.
        var connection = new Herald.Redis.HeraldRedisConnection(Herald.Redis.RedisConnectionOptions.Parse(_redis!.ConnectionString));
        _connections.Add(connection);
        return new RedisSseHistoryStore(connection, Options.Create(new RedisSseHistoryStoreOptions { MaxEventsPerAudience = maxEventsPerAudience }));
    }

    protected override async Task WhenStoresConnectedAsync()
    {
        // A write before a connection's first connect is lost (as in an outage): a node that writes at once would
        // otherwise race its own connection, and the other node would not find what it wrote.
        foreach (var connection in _connections)
        {
            await connection.GetMultiplexerAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task AnUnreachableStoreDoesNotRefuseTheReconnect()
    {
        await using var node1 = await StartNodeAsync();
        var (a, aId) = await node1.ConnectOpenAsync();
        var last = a.LastEventId;
        await a.DisposeAsync();
        await _redis!.StopAsync();

        await using var connection = new Herald.Redis.HeraldRedisConnection(Herald.Redis.RedisConnectionOptions.Parse(_redis.ConnectionString + ",connectTimeout=200,asyncTimeout=300"));
        await using var node2 = await SseTestHost.StartAsync(services: s => s.AddSingleton<ISseHistoryStore>(new RedisSseHistoryStore(connection, Options.Create(new RedisSseHistoryStoreOptions()))));
        node2.AllowErrors = true;
        await using var b = await node2.ConnectAsync(lastEventId: last).DefaultTimeout();
        var open = OpenPayload.Parse((await b.ReadEventAsync().DefaultTimeout()).Data);
        Assert.Equal((aId, false), (open.ClientId, open.Resumed));
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Contains(node2.Logs.Entries, e => e.EventId.Name == "HistoryStoreFailed");
    }
}

/// <summary>Two SSE nodes sharing an <see cref="ISseHistoryStore"/>: a client reconnecting to the other node resumes.</summary>
public abstract class SseCrossNodeTests
{
    /// <summary>The store node N uses: one shared instance (in memory) or one connection each (Redis).</summary>
    protected abstract ISseHistoryStore StoreForNode(int maxEventsPerAudience);

    /// <summary>Completes when every store handed out so far can write.</summary>
    protected virtual Task WhenStoresConnectedAsync() => Task.CompletedTask;

    [Fact]
    public async Task AReconnectToAnotherNodeGetsWhatTheFirstNodeHadForItWithItsIdsAndTopics()
    {
        await using var node1 = await StartNodeAsync();
        await using var node2 = await StartNodeAsync();
        var (a, aId) = await node1.ConnectOpenAsync("?topic=news");
        Assert.True(node1.Server.TryGetClient(aId, out var onNode1));
        onNode1.Join("joined-by-server");
        node1.Server.Send("seen");
        Assert.Equal(["seen"], await ReadData(a, 1));
        var last = a.LastEventId;
        var gone = node1.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();

        node1.Server.Send("all 1");
        node1.Server.To("news").Send("news 2");
        node1.Server.To(aId).Emit("direct", "3");
        node1.Server.To("other").Send("not for a");
        node1.Server.To("joined-by-server", "news").Send("4, once");
        node2.Server.Send("node 2, before a came");

        await using var b = await node2.ConnectAsync(lastEventId: last).DefaultTimeout();
        var open = OpenPayload.Parse((await b.ReadEventAsync().DefaultTimeout()).Data);
        Assert.Equal((aId, true), (open.ClientId, open.Resumed));
        var replayed = new List<Testing.Sse.SseTestEvent>();
        for (var i = 0; i < 4; i++)
        {
            replayed.Add(await b.ReadEventAsync().DefaultTimeout());
        }

        Assert.Equal(["all 1", "news 2", "3", "4, once"], replayed.Select(e => e.Data));
        Assert.Equal("direct", replayed[2].Type);
        var node1Tag = last.Split('-')[0];
        Assert.All(replayed, e => Assert.StartsWith(node1Tag + "-", e.LastEventId, StringComparison.Ordinal));

        // The topics came along (the reconnect asked for none): node 2 delivers them live now, with its own ids.
        Assert.True(node2.Server.TryGetClient(aId, out var onNode2));
        Assert.Equal(["joined-by-server", "news"], onNode2.Topics.Order());
        node2.Server.To("joined-by-server").Send("live on node 2");
        var live = await b.ReadEventAsync().DefaultTimeout();
        Assert.Equal("live on node 2", live.Data);
        Assert.DoesNotContain(node1Tag, live.LastEventId, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task ASecondDropRightAfterAResumeOnAnotherNodeResumesAgainWithTheSameIdAndTopics(bool backToTheFirstNode, bool withMissedEvents)
    {
        await using var node1 = await StartNodeAsync();

        // Node 2's heartbeat tells the test when everything queued before it (the replay and the id after it) has arrived.
        await using var node2 = await StartNodeAsync(configure: o => o.HeartbeatInterval = TimeSpan.FromMilliseconds(200));
        var (a, aId) = await node1.ConnectOpenAsync("?topic=news");
        node1.Server.To("news").Send("seen");
        Assert.Equal(["seen"], await ReadData(a, 1));
        var gone = node1.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();

        var node1Tag = a.LastEventId.Split('-')[0];
        if (withMissedEvents)
        {
            node1.Server.To("news").Send("missed");
            await WaitUntilStoredAsync(a.LastEventId, expectedEvents: 1).DefaultTimeout();
        }

        // Resumed on node 2: without a replay the open event's id is the only id the client gets from node 2; after
        // one, the last replayed event carries node 1's id and an id with no data follows.
        var b = await node2.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout();
        Assert.Equal((aId, true), OpenOf(await b.ReadEventAsync().DefaultTimeout()));
        if (withMissedEvents)
        {
            Assert.Equal("missed", (await b.ReadEventAsync().DefaultTimeout()).Data);
        }

        await b.ReadCommentAsync().DefaultTimeout();
        var afterResume = b.LastEventId;
        Assert.False(afterResume.StartsWith(node1Tag + "-", StringComparison.Ordinal), $"the client's last id '{afterResume}' is still node 1's");
        Assert.True(Herald.Sse.Internal.SseEventId.TryParse(afterResume, out _, out _, out _), $"the open event's id '{afterResume}' is not a resumable id");
        var goneAgain = node2.WhenDisconnected(aId);
        await b.DisposeAsync();
        await goneAgain.DefaultTimeout();

        // Dropped again before any new event: the reconnect carries that id and resumes the same client.
        var node = backToTheFirstNode ? node1 : node2;
        await using var c = await node.ConnectAsync(lastEventId: afterResume).DefaultTimeout();
        Assert.Equal((aId, true), OpenOf(await c.ReadEventAsync().DefaultTimeout()));
        Assert.True(node.Server.TryGetClient(aId, out var client));
        Assert.Equal(["news"], client.Topics);
        node.Server.To("news").Send("later");
        var next = await c.ReadEventAsync().DefaultTimeout();
        Assert.Equal(("message", "later"), (next.Type, next.Data));

        static (string, bool) OpenOf(Testing.Sse.SseTestEvent e)
        {
            Assert.Equal("herald:open", e.Type);
            var open = OpenPayload.Parse(e.Data);
            return (open.ClientId, open.Resumed);
        }
    }

    [Fact]
    public async Task AClientClosedOnOneNodeGets204FromTheOther()
    {
        await using var node1 = await StartNodeAsync();
        await using var node2 = await StartNodeAsync();
        var (a, aId) = await node1.ConnectOpenAsync();
        await using var a_ = a;
        node1.Server.To(aId).Close();
        Assert.Empty(await a.ReadToEndAsync().DefaultTimeout());

        // The close is written behind (node 1's connection), the lookup reads on node 2's: wait (bounded) until the
        // store holds it, so the test checks the 204, not the race between two Redis connections.
        await WaitUntilClosedAsync(a.LastEventId).DefaultTimeout();
        await using var again = await node2.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    private async Task WaitUntilClosedAsync(string lastEventId)
    {
        var dash = lastEventId.IndexOf('-', StringComparison.Ordinal);
        var dot = lastEventId.IndexOf('.', dash);
        var clientId = Herald.Sse.Internal.SseEventId.ClientIdFor(System.Text.Encoding.UTF8.GetBytes(SseTestHost.SharedResumeKey), lastEventId[(dot + 1)..], null);
        var store = StoreForNode(2);
        while ((await store.ResumeAsync(lastEventId[..dash], clientId, 0, CancellationToken.None)).Status != SseResumeStatus.Closed)
        {
            await Task.Delay(20);
        }
    }

    private async Task WaitUntilStoredAsync(string lastEventId, int expectedEvents)
    {
        // id format: {instance}-{seq}.{token}; the client id is derived from the token (no owner here).
        var dash = lastEventId.IndexOf('-', StringComparison.Ordinal);
        var dot = lastEventId.IndexOf('.', dash);
        var instance = lastEventId[..dash];
        var seq = long.Parse(lastEventId[(dash + 1)..dot], System.Globalization.CultureInfo.InvariantCulture);
        var clientId = Herald.Sse.Internal.SseEventId.ClientIdFor(System.Text.Encoding.UTF8.GetBytes(SseTestHost.SharedResumeKey), lastEventId[(dot + 1)..], null);
        var store = StoreForNode(2);
        while (true)
        {
            var result = await store.ResumeAsync(instance, clientId, seq, CancellationToken.None);
            if (result.Events.Count >= expectedEvents)
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task WhatTheStoreNoLongerHoldsOrNeverHadIsReportedAsMissed()
    {
        await using var node1 = await StartNodeAsync(maxEventsPerAudience: 2);
        await using var node2 = await StartNodeAsync(maxEventsPerAudience: 2);
        var (a, aId) = await node1.ConnectOpenAsync();
        var last = a.LastEventId;
        var gone = node1.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        node1.Server.Send("1");
        node1.Server.Send("2");
        node1.Server.Send("3");

        // The store is written asynchronously: wait (bounded) until it holds the newest event before
        // reconnecting elsewhere, so the test checks replay, not the write race.
        await WaitUntilStoredAsync(last!, expectedEvents: 2).DefaultTimeout();

        await using var b = await node2.ConnectAsync(lastEventId: last).DefaultTimeout();
        Assert.True(OpenPayload.Parse((await b.ReadEventAsync().DefaultTimeout()).Data).Resumed);
        Assert.Equal(("herald:missed", "{\"reason\":\"history\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(["2", "3"], await ReadData(b, 2));

        // An instance the store never heard of (well-formed id): a fresh session, told it missed data.
        const string token = "AAAAAAAAAAAAAAAAAAAAAA";
        await using var c = await node2.ConnectAsync(lastEventId: "abcdefghij-5." + token).DefaultTimeout();
        var open = OpenPayload.Parse((await c.ReadEventAsync().DefaultTimeout()).Data);
        Assert.False(open.Resumed);
        Assert.Equal(Herald.Sse.Internal.SseEventId.ClientIdFor(System.Text.Encoding.UTF8.GetBytes(SseTestHost.SharedResumeKey), token, null), open.ClientId);
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await c.ReadEventAsync().DefaultTimeout()));
    }

    private protected async Task<SseTestHost> StartNodeAsync(int maxEventsPerAudience = 256, Action<SseOptions>? configure = null)
    {
        var store = StoreForNode(maxEventsPerAudience);
        await WhenStoresConnectedAsync();
        return await SseTestHost.StartAsync(configure, services: s => s.AddSingleton(store));
    }
}
