using System.Text;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

/// <summary>The <see cref="IMessageBus"/> specification against a real redis-server, plus what is Redis-specific.</summary>
public sealed class RedisMessageBusTests(RedisFixture redis) : MessageBusSpecification, IClassFixture<RedisFixture>
{
    protected override IMessageBus CreateBus(string nodeName, ILoggerFactory loggerFactory)
        => RedisFixture.CreateBus(redis.Server, nodeName, loggerFactory);

    [Fact]
    public async Task TwoNodes_EachReceiveAPublicationOnce_AndRedisCarriesItOncePerNode()
    {
        await using var node1 = await CreateConnectedBusAsync("web-server-1");
        await using var node2 = await CreateConnectedBusAsync("web-server-2");
        var channel = UniqueChannel("cluster");
        var collectors = Enumerable.Range(0, 6).Select(_ => new MessageCollector()).ToArray();
        var subscriptions = new List<IAsyncDisposable>();
        for (var i = 0; i < collectors.Length; i++)
        {
            subscriptions.Add(await (i % 2 == 0 ? node1 : node2).SubscribeAsync(channel, collectors[i].Handler).DefaultTimeout());
        }

        // One SUBSCRIBE per node, whatever its number of local handlers.
        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        Assert.Equal(2, await SubscriberCountAsync(raw, "herald:" + channel));

        await node1.PublishAsync(channel, "hello"u8.ToArray()).DefaultTimeout();
        await node2.PublishAsync(channel, "world"u8.ToArray()).DefaultTimeout();

        foreach (var c in collectors)
        {
            await c.WaitForCountAsync(2).DefaultTimeout();
            Assert.Equal(["hello", "world"], c.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        }

        foreach (var s in subscriptions)
        {
            await s.DisposeAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task Unsubscribing_RemovesTheRedisSubscription_WhenTheLastHandlerLeaves()
    {
        await using var bus = await CreateConnectedBusAsync();
        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        var channel = UniqueChannel("refcount");
        var a = await bus.SubscribeAsync(channel, new MessageCollector().Handler).DefaultTimeout();
        var b = await bus.SubscribeAsync(channel, new MessageCollector().Handler).DefaultTimeout();

        await a.DisposeAsync().DefaultTimeout();
        Assert.Equal(1, await SubscriberCountAsync(raw, "herald:" + channel));

        await b.DisposeAsync().DefaultTimeout();

        // UNSUBSCRIBE is not awaited; a PING barrier through a new subscription proves it went before.
        await using var barrier = await bus.SubscribeAsync(UniqueChannel("barrier"), new MessageCollector().Handler).DefaultTimeout();
        Assert.Equal(0, await SubscriberCountAsync(raw, "herald:" + channel));
    }

    [Fact]
    public async Task ForeignPublisher_ReachesTheMessageChannel_ThroughThePrefixedRedisChannel()
    {
        await using var bus = await CreateConnectedBusAsync("web-server-1");
        var channel = new MessageChannel(bus, Microsoft.Extensions.Options.Options.Create(new HeraldMessagingOptions()));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var topic = UniqueChannel("greeting");
        using var subscription = channel.Subscribe<string>(topic, m => received.TrySetResult(m));
        await subscription.Ready.DefaultTimeout();

        // What any language's Redis client does: PUBLISH herald:topic:<topic> "<json>".
        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        var receivers = await raw.GetDatabase().ExecuteAsync("PUBLISH", "herald:topic:" + topic, "\"Hello, World!\"").DefaultTimeout();

        Assert.Equal(1, (long)receivers);
        Assert.Equal("Hello, World!", await received.Task.DefaultTimeout());
    }

    [Fact]
    public async Task ChannelPrefix_SeparatesApplications()
    {
        await using var appA = RedisFixture.CreateBus(redis.Server, "a", prefix: "app-a");
        await using var appB = RedisFixture.CreateBus(redis.Server, "b", prefix: "app-b");
        await WaitForStateAsync(appA, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(appB, MessageBusState.Connected).DefaultTimeout();
        var channel = UniqueChannel("shared-name");
        var a = new MessageCollector();
        var b = new MessageCollector();
        await using var sa = await appA.SubscribeAsync(channel, a.Handler).DefaultTimeout();
        await using var sb = await appB.SubscribeAsync(channel, b.Handler).DefaultTimeout();

        await appA.PublishAsync(channel, "only-a"u8.ToArray()).DefaultTimeout();
        await appB.PublishAsync(channel, "only-b"u8.ToArray()).DefaultTimeout();

        await a.WaitForCountAsync(1).DefaultTimeout();
        await b.WaitForCountAsync(1).DefaultTimeout();
        await appA.PublishAsync(channel, "only-a-2"u8.ToArray()).DefaultTimeout();
        await a.WaitForCountAsync(2).DefaultTimeout();
        Assert.Equal(["only-b"], b.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
    }

    [Fact]
    public async Task AddHeraldRedis_RegistersTheRedisBusAndTheChannel()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddHeraldMessaging(o => o.NodeName = "rpc-server-1")
            .AddHeraldRedis(redis.Server.ConnectionString + ",name=herald-tests", o => o.ChannelPrefix = "di");
        await using var provider = services.BuildServiceProvider();

        var bus = provider.GetRequiredService<IMessageBus>();
        Assert.IsType<RedisMessageBus>(bus);
        Assert.Same(bus, provider.GetRequiredService<RedisMessageBus>());
        Assert.Equal("rpc-server-1", bus.NodeName);
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();

        var channel = provider.GetRequiredService<IMessageChannel>();
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var topic = UniqueChannel("numbers");
        using var subscription = channel.Subscribe<int>(topic, n => received.TrySetResult(n));
        await subscription.Ready.DefaultTimeout();
        await channel.PublishAsync(topic, 42).DefaultTimeout();
        Assert.Equal(42, await received.Task.DefaultTimeout());
    }

    [Fact]
    public async Task AddHeraldRedis_UsesAMultiplexerTheApplicationRegistered_AndRefusesASecondConnectionString()
    {
        await using var mine = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString + ",name=the-apps-own").DefaultTimeout();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IHeraldRedisConnection>(new HeraldRedisConnection(mine))
            .AddHeraldRedis(redis.Server.ConnectionString, o => o.ChannelPrefix = "shared");
        Assert.Throws<InvalidOperationException>(() => services.AddHeraldRedisConnection("127.0.0.1:1"));
        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<RedisMessageBus>();
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();
        Assert.Same(mine, provider.GetRequiredService<IHeraldRedisConnection>().Multiplexer);

        // The bus subscribes through the application's multiplexer: every client Redis sees is the application's.
        var channel = UniqueChannel("via-mine");
        await using var subscription = await bus.SubscribeAsync(channel, new MessageCollector().Handler).DefaultTimeout();
        var clients = (string)(await mine.GetDatabase().ExecuteAsync("CLIENT", "LIST").DefaultTimeout())!;
        Assert.Equal(1, await SubscriberCountAsync(mine, "shared:" + channel));
        Assert.All(clients.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Contains(" name=the-apps-own ", line, StringComparison.Ordinal)); // no connection of Herald's own
    }

    [Fact]
    public async Task Password_IsSentOnConnect()
    {
        await using var server = await RedisServerFixture.StartAsync("--requirepass", "s3cret");
        var options = RedisFixture.BusOptions(server);
        options.Connection = RedisConnectionOptions.Parse(server.ConnectionString + ",password=s3cret,defaultDatabase=2");
        await using var bus = new RedisMessageBus(new HeraldNode("auth"), Microsoft.Extensions.Options.Options.Create(options));
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();

        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync("secured", collector.Handler).DefaultTimeout();
        await bus.PublishAsync("secured", "ok"u8.ToArray()).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();
    }

    [Fact]
    public async Task WrongPassword_KeepsRetrying_LogsWhy_AndRefusesPublications()
    {
        await using var server = await RedisServerFixture.StartAsync("--requirepass", "s3cret");
        var logs = new TestLogSink();
        var options = RedisFixture.BusOptions(server);
        options.Connection = RedisConnectionOptions.Parse(server.ConnectionString + ",password=wrong,connectTimeout=300");
        var refused = logs.WaitForAsync(e => e.EventId.Id == 2002);
        await using var bus = new RedisMessageBus(new HeraldNode("auth"), Microsoft.Extensions.Options.Options.Create(options), logs.CreateFactory());

        await refused.DefaultTimeout();
        Assert.Equal(MessageBusState.Connecting, bus.State);

        // Never connected: refused at once (and counted), not buffered for a Redis this process never reached.
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await bus.PublishAsync("x", "x"u8.ToArray()).DefaultTimeout());
        Assert.Equal(0, bus.BufferedCount);
        Assert.Equal(1, bus.Counters.Failed);
    }

    private static async Task<long> SubscriberCountAsync(StackExchange.Redis.ConnectionMultiplexer raw, string channel)
    {
        var reply = (StackExchange.Redis.RedisResult[])(await raw.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", channel).DefaultTimeout())!;
        return (long)reply[1];
    }
}
