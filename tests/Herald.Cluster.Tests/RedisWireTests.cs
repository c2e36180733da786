using Herald.Messaging;
using Herald.Testing;

namespace Herald.Cluster.Tests;

/// <summary>Redis-only behaviour: non-.NET publishers with redis-cli, and Redis going away mid-test.</summary>
public sealed class RedisWireTests
{
    [Fact]
    public async Task ADocumentedEnvelopePublishedWithRedisCliReachesTheClients()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        var name = "web-cli-" + Guid.NewGuid().ToString("N")[..6];
        await using var node = await ClusterNode.StartAsync(name, s => RedisFixture.AddBus(s, redis));
        await using var news = await node.ConnectAsync(null, "news");
        await using var other = await node.ConnectAsync();

        // The docs/wire-format.md examples, verbatim apart from the node name.
        Assert.Equal(1, await RedisFixture.RedisCliPublishAsync(redis, "herald:sio:/",
            """{"v":1,"source":"erlang-1","kind":"broadcast","nsp":"/","rooms":["news"],"packet":{"type":2,"data":["flash","Notice: going down in 10 minutes"]}}"""));
        Assert.Equal(1, await RedisFixture.RedisCliPublishAsync(redis, $"herald:sio:/:{name}",
            $$$"""{"source":"erlang-1","target":"{{{name}}}","kind":"broadcast","rooms":["{{{other.Id}}}"],"packet":{"data":["direct",{"n":1}]}}"""));
        Assert.Equal(1, await RedisFixture.RedisCliPublishAsync(redis, "herald:sio:/", "not json"));
        Assert.Equal(1, await RedisFixture.RedisCliPublishAsync(redis, "herald:sio:/",
            """{"source":"erlang-1","kind":"broadcast","packet":{"data":["end"]}}"""));

        Assert.Equal("2[\"flash\",\"Notice: going down in 10 minutes\"]", await news.NextAsync());
        Assert.Equal("2[\"end\"]", await news.NextAsync());
        Assert.Equal("2[\"direct\",{\"n\":1}]", await other.NextAsync());
        Assert.Equal("2[\"end\"]", await other.NextAsync());
    }

    [Fact]
    public async Task WhenRedisRestartsLocalDeliveryNeverStopsAndCrossNodeDeliveryResumes()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        var run = Guid.NewGuid().ToString("N")[..6];
        await using var n1 = await ClusterNode.StartAsync("web-1-" + run, s => RedisFixture.AddBus(s, redis));
        await using var n2 = await ClusterNode.StartAsync("web-2-" + run, s => RedisFixture.AddBus(s, redis));
        await n1.WaitForNodesAsync(1);
        await n2.WaitForNodesAsync(1);
        await using var a = await n1.ConnectAsync();
        await using var b = await n2.ConnectAsync();

        n1.Io.Emit("before");
        Assert.Equal("2[\"before\"]", await a.NextAsync());
        Assert.Equal("2[\"before\"]", await b.NextAsync());

        await redis.StopAsync();
        await n1.Bus.WaitForStateAsync(MessageBusState.Disconnected);
        await n2.Bus.WaitForStateAsync(MessageBusState.Disconnected);
        n1.Io.Emit("during");
        n2.Io.Emit("during-2");
        Assert.Equal("2[\"during\"]", await a.NextAsync());
        Assert.Equal("2[\"during-2\"]", await b.NextAsync());

        await redis.RestartAsync();
        await n1.Bus.WaitConnectedForTestAsync();
        await n2.Bus.WaitConnectedForTestAsync();
        n1.Io.Emit("after");
        Assert.Equal("2[\"after\"]", await a.NextAsync());
        Assert.Equal("2[\"during\"]", await b.NextAsync()); // kept by the outage buffer, sent first after the reconnection
        Assert.Equal("2[\"after\"]", await b.NextAsync());
        await n1.WaitForNodesAsync(1);
        Assert.Equal(2, (await n1.Io.FetchSocketsAsync().DefaultTimeout()).Count);
    }
}
