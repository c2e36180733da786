using System.Net;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Herald.Sse.Tests.SseEndpointTests;

namespace Herald.Sse.Tests;

/// <summary>Two SSE nodes sharing an <see cref="ISseHistoryStore"/>: a client reconnecting to the other node resumes.</summary>
public class SseCrossNodeTests
{
    [Fact]
    public async Task AReconnectToAnotherNodeGetsWhatTheFirstNodeHadForItWithItsIdsAndTopics()
    {
        var store = new InMemorySseHistoryStore();
        await using var node1 = await StartNodeAsync(store);
        await using var node2 = await StartNodeAsync(store);
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

    [Fact]
    public async Task AClientClosedOnOneNodeGets204FromTheOther()
    {
        var store = new InMemorySseHistoryStore();
        await using var node1 = await StartNodeAsync(store);
        await using var node2 = await StartNodeAsync(store);
        var (a, aId) = await node1.ConnectOpenAsync();
        await using var a_ = a;
        node1.Server.To(aId).Close();
        Assert.Empty(await a.ReadToEndAsync().DefaultTimeout());

        await using var again = await node2.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task WhatTheStoreNoLongerHoldsOrNeverHadIsReportedAsMissed()
    {
        var store = new InMemorySseHistoryStore(maxEventsPerAudience: 2);
        await using var node1 = await StartNodeAsync(store);
        await using var node2 = await StartNodeAsync(store);
        var (a, aId) = await node1.ConnectOpenAsync();
        var last = a.LastEventId;
        var gone = node1.WhenDisconnected(aId);
        await a.DisposeAsync();
        await gone.DefaultTimeout();
        node1.Server.Send("1");
        node1.Server.Send("2");
        node1.Server.Send("3");

        await using var b = await node2.ConnectAsync(lastEventId: last).DefaultTimeout();
        Assert.True(OpenPayload.Parse((await b.ReadEventAsync().DefaultTimeout()).Data).Resumed);
        Assert.Equal(("herald:missed", "{\"reason\":\"history\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(["2", "3"], await ReadData(b, 2));

        // An instance the store never heard of (well-formed id): a fresh session, told it missed data.
        await using var c = await node2.ConnectAsync(lastEventId: "abcdefghij-5.someone").DefaultTimeout();
        var open = OpenPayload.Parse((await c.ReadEventAsync().DefaultTimeout()).Data);
        Assert.Equal(("someone", false), (open.ClientId, open.Resumed));
        Assert.Equal(("herald:missed", "{\"reason\":\"unknown\"}"), Tuple(await c.ReadEventAsync().DefaultTimeout()));
    }

    private static Task<SseTestHost> StartNodeAsync(ISseHistoryStore store)
        => SseTestHost.StartAsync(services: s => s.AddSingleton(store));
}
