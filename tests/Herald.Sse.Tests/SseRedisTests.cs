using System.Net;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Herald.Sse.Tests.SseEndpointTests;

namespace Herald.Sse.Tests;

/// <summary>
/// Two web nodes and a worker, each with its own connection to a real redis-server: the worker's
/// <see cref="SseEmitter"/> reaches clients through <c>Via(node)</c>, topics and everyone, and closes them.
/// </summary>
public sealed class SseRedisTests : IAsyncLifetime
{
    private RedisServerFixture? _redis;

    private RedisServerFixture Redis => _redis ?? throw new InvalidOperationException("redis-server did not start.");

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task AWorkerOnItsOwnRedisConnectionPushesToClientsOfOneNodeAndClosesThem()
    {
        await using var web1 = await StartNodeAsync("web-1");
        await using var web2 = await StartNodeAsync("web-2");
        await using var workerBus = CreateBus("worker-1");
        var worker = new SseEmitter(workerBus);
        var (a, aId) = await web1.ConnectOpenAsync("?topic=news");
        var (b, bId) = await web2.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        await worker.Via("web-1").To(aId).EmitAsync("greeting", new { Text = "hi a" }).DefaultTimeout();
        await worker.Via("web-2").To(aId).SendAsync("a is not on web-2").DefaultTimeout();
        await worker.To("news").SendAsync("news, on every node").DefaultTimeout();
        await worker.Via("web-2").SendAsync("everyone on web-2").DefaultTimeout();
        await worker.SendAsync("everyone").DefaultTimeout();

        Assert.Equal(("greeting", "{\"text\":\"hi a\"}"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(["news, on every node", "everyone"], await ReadData(a, 2));
        Assert.Equal(["everyone on web-2", "everyone"], await ReadData(b, 2));

        await worker.Via("web-2").To(bId).CloseAsync().DefaultTimeout();
        Assert.Empty(await b.ReadToEndAsync().DefaultTimeout());
        await using var again = await web2.ConnectAsync(lastEventId: b.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);

        // a, on the other node, is untouched.
        await worker.Via("web-1").To(aId).SendAsync("a still here").DefaultTimeout();
        Assert.Equal(["a still here"], await ReadData(a, 1));
    }

    private Task<SseTestHost> StartNodeAsync(string nodeName)
        => SseTestHost.StartAsync(services: s =>
        {
            s.AddHeraldMessaging(o => o.NodeName = nodeName);
            s.AddHeraldRedis(Redis.ConnectionString);
        });

    private RedisMessageBus CreateBus(string nodeName)
        => new(new HeraldNode(nodeName), Options.Create(new RedisMessageBusOptions { Connection = RedisConnectionOptions.Parse(Redis.ConnectionString) }));
}
