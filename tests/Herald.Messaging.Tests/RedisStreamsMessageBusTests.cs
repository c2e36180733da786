using System.Globalization;
using System.Text;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Tests;

/// <summary>The <see cref="IMessageBus"/> specification against the Redis Streams bus on a real redis-server, plus what is Streams-specific.</summary>
public sealed class RedisStreamsMessageBusTests(RedisFixture redis) : MessageBusSpecification, IClassFixture<RedisFixture>
{
    protected override IMessageBus CreateBus(string nodeName, ILoggerFactory loggerFactory)
        => CreateStreamsBus(redis.Server, nodeName, loggerFactory);

    internal static RedisStreamsMessageBusOptions StreamsOptions(RedisServerFixture server, string prefix = "herald")
    {
        var options = new RedisStreamsMessageBusOptions
        {
            Connection = RedisConnectionOptions.Parse(server.ConnectionString),
            ChannelPrefix = prefix,
        };
        options.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
        options.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(250);
        return options;
    }

    internal static RedisStreamsMessageBus CreateStreamsBus(RedisServerFixture server, string nodeName, ILoggerFactory? loggerFactory = null, Action<RedisStreamsMessageBusOptions>? configure = null)
    {
        var options = StreamsOptions(server);
        configure?.Invoke(options);
        return new RedisStreamsMessageBus(new HeraldNode(nodeName), Options.Create(options), loggerFactory);
    }

    private static byte[] Bytes(int i) => Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture));

    private static int Number(byte[] payload) => int.Parse(Encoding.UTF8.GetString(payload), CultureInfo.InvariantCulture);

    [Fact]
    public async Task TwoNodes_EachReceiveAPublicationOnce_FromOneStreamEntry()
    {
        await using var node1 = await CreateConnectedBusAsync("web-server-1");
        await using var node2 = await CreateConnectedBusAsync("web-server-2");
        var channel = UniqueChannel("cluster");
        var collectors = Enumerable.Range(0, 4).Select(_ => new MessageCollector()).ToArray();
        var subscriptions = new List<IAsyncDisposable>();
        for (var i = 0; i < collectors.Length; i++)
        {
            subscriptions.Add(await (i % 2 == 0 ? node1 : node2).SubscribeAsync(channel, collectors[i].Handler).DefaultTimeout());
        }

        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        var before = await raw.GetDatabase().StreamInfoAsync("herald:stream").DefaultTimeout();

        await node1.PublishAsync(channel, "hello"u8.ToArray()).DefaultTimeout();
        await node2.PublishAsync(channel, "world"u8.ToArray()).DefaultTimeout();

        foreach (var c in collectors)
        {
            await c.WaitForCountAsync(2).DefaultTimeout();
            Assert.Equal(["hello", "world"], c.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        }

        // One XADD per publication, whatever the number of nodes and handlers.
        var after = await raw.GetDatabase().StreamInfoAsync("herald:stream").DefaultTimeout();
        Assert.Equal(2, after.EntriesAdded - before.EntriesAdded);
        foreach (var s in subscriptions)
        {
            await s.DisposeAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task ForeignXadd_ReachesSubscribers()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("foreign");
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(channel, collector.Handler).DefaultTimeout();
        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);

        // What any language's Redis client does: XADD herald:stream * c <channel> p <payload>.
        await raw.GetDatabase().StreamAddAsync("herald:stream", [new("c", channel), new("p", "from elsewhere")]).DefaultTimeout();

        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal("from elsewhere", Encoding.UTF8.GetString(Assert.Single(collector.Messages).Payload));
    }

    [Fact]
    public async Task SeveralStreams_SpreadTheChannels_AndKeepEachChannelsOrder()
    {
        var logs = Logs.CreateFactory();
        await using var a = CreateStreamsBus(redis.Server, "a", logs, o => { o.StreamCount = 4; o.ChannelPrefix = "multi"; });
        await using var b = CreateStreamsBus(redis.Server, "b", logs, o => { o.StreamCount = 4; o.ChannelPrefix = "multi"; });
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        Assert.Equal(["multi:stream:0", "multi:stream:1", "multi:stream:2", "multi:stream:3"], a.StreamKeys);
        var channels = Enumerable.Range(0, 16).Select(i => UniqueChannel("c" + i)).ToArray();
        var collector = new MessageCollector();
        await using var _ = await b.SubscribePatternAsync("c*", collector.Handler).DefaultTimeout();

        var publications = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            foreach (var channel in channels)
            {
                publications.Add(a.PublishAsync(channel, Bytes(i)).AsTask());
            }
        }

        await Task.WhenAll(publications).DefaultTimeout();
        await collector.WaitForCountAsync(50 * channels.Length).DefaultTimeout();
        foreach (var channel in channels)
        {
            Assert.Equal(Enumerable.Range(0, 50), collector.Messages.Where(m => m.Channel == channel).Select(m => Number(m.Payload)));
        }

        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        var used = 0;
        foreach (var key in a.StreamKeys)
        {
            used += await raw.GetDatabase().KeyExistsAsync(key).DefaultTimeout() ? 1 : 0;
        }

        Assert.True(used > 1, "16 channels all hashed to one stream of 4");
    }

    [Fact]
    public async Task StreamIsTrimmed_ToAboutMaxLength()
    {
        await using var bus = CreateStreamsBus(redis.Server, "trim", Logs.CreateFactory(), o => { o.ChannelPrefix = "trim"; o.MaxLength = 500; });
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();
        var publications = Enumerable.Range(0, 3000).Select(i => bus.PublishAsync("x", Bytes(i)).AsTask()).ToArray();
        await Task.WhenAll(publications).DefaultTimeout();

        await using var raw = await RedisFixture.ConnectRawAsync(redis.Server);
        var length = await raw.GetDatabase().StreamLengthAsync("trim:stream").DefaultTimeout();

        // MAXLEN ~ trims whole nodes of the stream's radix tree (100 entries each by default).
        Assert.InRange(length, 500, 700);
    }

    [Fact]
    public async Task ABlockingXread_OnTheMultiplexerThatPublishes_WouldHoldPublicationsUp_SoTheBusReadsOnItsOwn()
    {
        // The measurement behind the reading connection: one multiplexer, one XREAD BLOCK 1000 pending, then a PING.
        await using (var shared = await RedisFixture.ConnectRawAsync(redis.Server))
        {
            var database = shared.GetDatabase();
            var blocked = database.ExecuteAsync("XREAD", "BLOCK", 1000, "STREAMS", (StackExchange.Redis.RedisKey)UniqueChannel("empty"), "$");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await database.PingAsync().DefaultTimeout();
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(800), $"PING behind XREAD BLOCK 1000 took {clock.Elapsed.TotalMilliseconds:F0} ms");
            await blocked.DefaultTimeout();
        }

        // The bus: its reader blocks for 5 s at a time, and publications do not wait for it.
        await using var bus = CreateStreamsBus(redis.Server, "own-reader", Logs.CreateFactory(), o => o.ReadBlock = TimeSpan.FromSeconds(5));
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();
        await bus.PublishAsync("warm-up", Bytes(0)).DefaultTimeout();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            await bus.PublishAsync(UniqueChannel("nobody"), Bytes(i)).DefaultTimeout();
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"20 publications took {watch.Elapsed.TotalMilliseconds:F0} ms");
    }
}
