using System.Text;
using Herald.Testing;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

/// <summary>
/// What every <see cref="IMessageBus"/> must do. Each implementation's test class derives from this and
/// says how to create a bus; the same tests run against the in-memory bus and a real Redis.
/// </summary>
public abstract class MessageBusSpecification
{
    protected TestLogSink Logs { get; } = new();

    /// <summary>Creates a bus for <paramref name="nodeName"/> that logs to <see cref="Logs"/>.</summary>
    protected abstract IMessageBus CreateBus(string nodeName, ILoggerFactory loggerFactory);

    protected async Task<IMessageBus> CreateConnectedBusAsync(string nodeName = "node-a")
    {
        var bus = CreateBus(nodeName, Logs.CreateFactory());
        await WaitForStateAsync(bus, MessageBusState.Connected).DefaultTimeout();
        return bus;
    }

    protected static Task WaitForStateAsync(IMessageBus bus, MessageBusState state)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bus.StateChanged += (_, e) =>
        {
            if (e.Current == state)
            {
                tcs.TrySetResult();
            }
        };
        if (bus.State == state)
        {
            tcs.TrySetResult();
        }

        return tcs.Task;
    }

    protected static string UniqueChannel(string name) => $"{name}-{Guid.NewGuid():N}";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task NodeName_IsTheConfiguredName()
    {
        await using var bus = await CreateConnectedBusAsync("web-server-1");
        Assert.Equal("web-server-1", bus.NodeName);
        Assert.Equal(MessageBusState.Connected, bus.State);
    }

    [Fact]
    public async Task Publish_ReachesExactSubscriber_WithChannelAndBytes()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("greeting");
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(channel, collector.Handler).DefaultTimeout();

        await bus.PublishAsync(channel, Bytes("Hello, World!")).DefaultTimeout();

        await collector.WaitForCountAsync(1).DefaultTimeout();
        var message = Assert.Single(collector.Messages);
        Assert.Equal(channel, message.Channel);
        Assert.Null(message.Pattern);
        Assert.Equal("Hello, World!", Encoding.UTF8.GetString(message.Payload));
    }

    [Fact]
    public async Task Subscriber_DoesNotReceiveOtherChannels()
    {
        await using var bus = await CreateConnectedBusAsync();
        var mine = UniqueChannel("mine");
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(mine, collector.Handler).DefaultTimeout();

        await bus.PublishAsync(mine + "-other", Bytes("not for me")).DefaultTimeout();
        await bus.PublishAsync(mine + "x", Bytes("not for me either")).DefaultTimeout();
        await bus.PublishAsync(mine, Bytes("for me")).DefaultTimeout();

        // Delivery keeps the publisher's order, so once "for me" is in, the others would have been too.
        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal("for me", Encoding.UTF8.GetString(Assert.Single(collector.Messages).Payload));
    }

    [Fact]
    public async Task EmptyPayload_IsDelivered()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("empty");
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(channel, collector.Handler).DefaultTimeout();

        await bus.PublishAsync(channel, ReadOnlyMemory<byte>.Empty).DefaultTimeout();

        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.Empty(Assert.Single(collector.Messages).Payload);
    }

    [Fact]
    public async Task PatternSubscription_ReceivesMatchingChannels_WithThePattern()
    {
        await using var bus = await CreateConnectedBusAsync();
        var root = UniqueChannel("orders");
        var pattern = root + ".*";
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribePatternAsync(pattern, collector.Handler).DefaultTimeout();

        await bus.PublishAsync(root + ".created", Bytes("1")).DefaultTimeout();
        await bus.PublishAsync(UniqueChannel("users") + ".created", Bytes("x")).DefaultTimeout();
        await bus.PublishAsync(root + "-created", Bytes("x")).DefaultTimeout();
        await bus.PublishAsync(root + ".paid.eu", Bytes("2")).DefaultTimeout();

        await collector.WaitForCountAsync(2).DefaultTimeout();
        var messages = collector.Messages;
        Assert.Equal([root + ".created", root + ".paid.eu"], messages.Select(m => m.Channel));
        Assert.All(messages, m => Assert.Equal(pattern, m.Pattern));
        Assert.Equal(["1", "2"], messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
    }

    [Fact]
    public async Task ExactAndPatternSubscriptions_BothReceive()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("both");
        var exact = new MessageCollector();
        var pattern = new MessageCollector();
        await using var a = await bus.SubscribeAsync(channel, exact.Handler).DefaultTimeout();
        await using var b = await bus.SubscribePatternAsync(channel[..^3] + "*", pattern.Handler).DefaultTimeout();

        await bus.PublishAsync(channel, Bytes("x")).DefaultTimeout();

        await exact.WaitForCountAsync(1).DefaultTimeout();
        await pattern.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal(channel, Assert.Single(pattern.Messages).Channel);
    }

    [Fact]
    public async Task Unsubscribe_StopsDelivery_ToThatHandlerOnly()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("unsub");
        var leaving = new MessageCollector();
        var staying = new MessageCollector();
        var leavingSubscription = await bus.SubscribeAsync(channel, leaving.Handler).DefaultTimeout();
        await using var _ = await bus.SubscribeAsync(channel, staying.Handler).DefaultTimeout();

        await bus.PublishAsync(channel, Bytes("1")).DefaultTimeout();
        await staying.WaitForCountAsync(1).DefaultTimeout();
        await leaving.WaitForCountAsync(1).DefaultTimeout();

        await leavingSubscription.DisposeAsync().DefaultTimeout();
        await leavingSubscription.DisposeAsync().DefaultTimeout(); // idempotent
        await bus.PublishAsync(channel, Bytes("2")).DefaultTimeout();
        await bus.PublishAsync(channel, Bytes("3")).DefaultTimeout();

        await staying.WaitForCountAsync(3).DefaultTimeout();
        Assert.Equal(1, leaving.Count);
    }

    [Fact]
    public async Task UnsubscribingTheLastHandler_ThenSubscribingAgain_Works()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("again");
        var first = new MessageCollector();
        var subscription = await bus.SubscribeAsync(channel, first.Handler).DefaultTimeout();
        await subscription.DisposeAsync().DefaultTimeout();

        var second = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(channel, second.Handler).DefaultTimeout();
        await bus.PublishAsync(channel, Bytes("x")).DefaultTimeout();

        await second.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal(0, first.Count);
    }

    [Fact]
    public async Task OnePublisher_MessagesArriveInOrder()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("ordered");
        var collector = new MessageCollector();
        var slow = new MessageCollector();
        await using var a = await bus.SubscribeAsync(channel, collector.Handler).DefaultTimeout();
        await using var b = await bus.SubscribeAsync(channel, slow.AsyncHandler).DefaultTimeout();
        const int count = 500;

        // Not awaited one by one: pipelined publications must keep their order too.
        var publications = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            publications.Add(bus.PublishAsync(channel, Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).AsTask());
        }

        await Task.WhenAll(publications).DefaultTimeout();
        await collector.WaitForCountAsync(count).DefaultTimeout();
        await slow.WaitForCountAsync(count).DefaultTimeout();
        var expected = Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, collector.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Equal(expected, slow.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
    }

    [Fact]
    public async Task ManySubscribers_EachReceiveEveryMessageOnce()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("many");
        var collectors = Enumerable.Range(0, 40).Select(_ => new MessageCollector()).ToArray();
        var patternCollectors = Enumerable.Range(0, 10).Select(_ => new MessageCollector()).ToArray();
        var subscriptions = new List<IAsyncDisposable>();
        foreach (var c in collectors)
        {
            subscriptions.Add(await bus.SubscribeAsync(channel, c.Handler).DefaultTimeout());
        }

        foreach (var c in patternCollectors)
        {
            subscriptions.Add(await bus.SubscribePatternAsync(channel[..^4] + "*", c.Handler).DefaultTimeout());
        }

        await bus.PublishAsync(channel, Bytes("a")).DefaultTimeout();
        await bus.PublishAsync(channel, Bytes("b")).DefaultTimeout();

        foreach (var c in collectors.Concat(patternCollectors))
        {
            await c.WaitForCountAsync(2).DefaultTimeout();
        }

        // One more message through a fresh subscriber proves nothing else is still on its way.
        var last = new MessageCollector();
        subscriptions.Add(await bus.SubscribeAsync(channel, last.Handler).DefaultTimeout());
        await bus.PublishAsync(channel, Bytes("c")).DefaultTimeout();
        await last.WaitForCountAsync(1).DefaultTimeout();
        foreach (var c in collectors.Concat(patternCollectors))
        {
            await c.WaitForCountAsync(3).DefaultTimeout();
            Assert.Equal(["a", "b", "c"], c.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        }

        foreach (var s in subscriptions)
        {
            await s.DisposeAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task LargePayload_ArrivesIntact()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("large");
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync(channel, collector.Handler).DefaultTimeout();
        var payload = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(payload);

        await bus.PublishAsync(channel, payload).DefaultTimeout();

        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.True(payload.AsSpan().SequenceEqual(Assert.Single(collector.Messages).Payload));
    }

    [Fact]
    public async Task ThrowingHandler_IsLoggedAndIsolated()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("throws");
        var before = new MessageCollector();
        var after = new MessageCollector();
        await using var a = await bus.SubscribeAsync(channel, before.Handler).DefaultTimeout();
        await using var b = await bus.SubscribeAsync(channel, _ => throw new InvalidOperationException("sync boom")).DefaultTimeout();
        await using var c = await bus.SubscribeAsync(channel, async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("async boom");
        }).DefaultTimeout();
        await using var d = await bus.SubscribeAsync(channel, after.Handler).DefaultTimeout();
        var logged = Logs.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception?.Message == "async boom");

        await bus.PublishAsync(channel, Bytes("1")).DefaultTimeout();
        await bus.PublishAsync(channel, Bytes("2")).DefaultTimeout();

        await after.WaitForCountAsync(2).DefaultTimeout();
        await before.WaitForCountAsync(2).DefaultTimeout();
        await logged.DefaultTimeout();
        Assert.Equal(MessageBusState.Connected, bus.State);
        Assert.Contains(Logs.Entries, e => e.Level == LogLevel.Error && e.Exception?.Message == "sync boom" && e.Message.Contains(channel, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handler_MaySubscribeAndUnsubscribe_DuringDelivery()
    {
        await using var bus = await CreateConnectedBusAsync();
        var channel = UniqueChannel("reentrant");
        var inner = new MessageCollector();
        var innerSubscribed = new TaskCompletionSource<IAsyncDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);
        IAsyncDisposable? self = null;
        self = await bus.SubscribeAsync(channel, async message =>
        {
            await self!.DisposeAsync();
            innerSubscribed.TrySetResult(await bus.SubscribeAsync(channel + ".inner", inner.Handler));
        }).DefaultTimeout();

        await bus.PublishAsync(channel, Bytes("go")).DefaultTimeout();
        await using var innerSubscription = await innerSubscribed.Task.DefaultTimeout();
        await bus.PublishAsync(channel + ".inner", Bytes("x")).DefaultTimeout();
        await inner.WaitForCountAsync(1).DefaultTimeout();
    }

    [Fact]
    public async Task Dispose_SetsStateAndRefusesPublications()
    {
        var bus = await CreateConnectedBusAsync();
        var disposed = WaitForStateAsync(bus, MessageBusState.Disposed);

        await bus.DisposeAsync().DefaultTimeout();

        await disposed.DefaultTimeout();
        Assert.Equal(MessageBusState.Disposed, bus.State);
        await Assert.ThrowsAnyAsync<Exception>(async () => await bus.PublishAsync("x", Bytes("x")).DefaultTimeout());
        await bus.DisposeAsync().DefaultTimeout(); // idempotent
    }
}
