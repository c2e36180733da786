using System.Text;
using Herald.Testing;

namespace Herald.Messaging.Tests;

/// <summary>redis-server is stopped and restarted on the same port in the middle of a test.</summary>
public sealed class RedisReconnectTests
{
    [Fact]
    public async Task BusReconnects_Resubscribes_AndDeliveryResumes()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var logs = new TestLogSink();
        await using var bus = RedisFixture.CreateBus(server, "web-server-1", logs.CreateFactory());
        await WaitForAsync(bus, MessageBusState.Connected);
        var exact = new MessageCollector();
        var pattern = new MessageCollector();
        await using var a = await bus.SubscribeAsync("news", exact.Handler).DefaultTimeout();
        await using var b = await bus.SubscribePatternAsync("orders.*", pattern.Handler).DefaultTimeout();
        await bus.PublishAsync("news", "before"u8.ToArray()).DefaultTimeout();
        await exact.WaitForCountAsync(1).DefaultTimeout();

        var disconnected = WaitForAsync(bus, MessageBusState.Disconnected);
        await server.StopAsync().DefaultTimeout();
        await disconnected.DefaultTimeout();

        // A subscription made during the outage must be in place after the reconnection too.
        var late = new MessageCollector();
        var lateSubscription = bus.SubscribeAsync("late", late.Handler).AsTask();

        var reconnected = WaitForAsync(bus, MessageBusState.Connected);
        await server.RestartAsync().DefaultTimeout();
        await reconnected.DefaultTimeout();
        await using var c = await lateSubscription.DefaultTimeout();

        await bus.PublishAsync("news", "after"u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("orders.created", "order"u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("late", "late"u8.ToArray()).DefaultTimeout();

        await exact.WaitForCountAsync(2).DefaultTimeout();
        await pattern.WaitForCountAsync(1).DefaultTimeout();
        await late.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal(["before", "after"], exact.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Equal("orders.created", Assert.Single(pattern.Messages).Channel);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2003); // resubscribed
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2002); // connection lost, with backoff
    }

    [Fact]
    public async Task PublishDuringOutage_FailsClearly_AndLaterPublicationsSucceed()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var options = RedisFixture.BusOptions(server);
        options.OutageBufferSize = 0; // without the outage buffer (RedisOutageBufferTests covers it)
        await using var bus = new Herald.Redis.RedisMessageBus(new HeraldNode("n"), Microsoft.Extensions.Options.Options.Create(options));
        await WaitForAsync(bus, MessageBusState.Connected);

        var disconnected = WaitForAsync(bus, MessageBusState.Disconnected);
        await server.StopAsync().DefaultTimeout();
        await disconnected.DefaultTimeout();
        await Assert.ThrowsAsync<Herald.Redis.RedisConnectionException>(async () => await bus.PublishAsync("x", "x"u8.ToArray()).DefaultTimeout());

        var reconnected = WaitForAsync(bus, MessageBusState.Connected);
        await server.RestartAsync().DefaultTimeout();
        await reconnected.DefaultTimeout();
        await bus.PublishAsync("x", "x"u8.ToArray()).DefaultTimeout();
    }

    private static Task WaitForAsync(IMessageBus bus, MessageBusState state)
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

        return tcs.Task.DefaultTimeout();
    }
}

/// <summary>The outage buffer's replay against subscribers that come back late, or never.</summary>
public sealed class RedisReplayTests
{
    private static Herald.Redis.RedisMessageBus Bus(RedisServerFixture server, string node, int reconnectMs, Action<Herald.Redis.RedisMessageBusOptions>? configure = null)
    {
        var options = RedisFixture.BusOptions(server);
        options.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(reconnectMs);
        options.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(reconnectMs * 2);
        options.OutageReplayDelay = TimeSpan.FromMilliseconds(100);
        configure?.Invoke(options);
        return new Herald.Redis.RedisMessageBus(new HeraldNode(node), Microsoft.Extensions.Options.Options.Create(options));
    }

    private static Task WaitForAsync(IMessageBus bus, MessageBusState state, int seconds = 15)
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

        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public async Task TheReplayWaitsForASubscriberThatReconnectsLate_SoItLosesNothing()
    {
        await using var server = await RedisServerFixture.StartAsync();
        await using var publisher = Bus(server, "fast", 20);
        await using var subscriber = Bus(server, "slow", 2500); // reconnects seconds after the publisher
        await WaitForAsync(publisher, MessageBusState.Connected);
        await WaitForAsync(subscriber, MessageBusState.Connected);
        var collector = new MessageCollector();
        await using var subscription = await subscriber.SubscribeAsync("late", collector.Handler).DefaultTimeout();
        await publisher.PublishAsync("late", "0"u8.ToArray()).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();

        var down = Task.WhenAll(WaitForAsync(publisher, MessageBusState.Disconnected), WaitForAsync(subscriber, MessageBusState.Disconnected));
        await server.StopAsync();
        await down;
        for (var i = 1; i <= 10; i++)
        {
            await publisher.PublishAsync("late", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).DefaultTimeout();
        }

        Assert.Equal(10, publisher.BufferedCount);
        await server.RestartAsync();
        await WaitForAsync(subscriber, MessageBusState.Connected, 30);
        await collector.WaitForCountAsync(11).DefaultTimeout();
        Assert.Equal(Enumerable.Range(0, 11).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), collector.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Equal(10, publisher.Counters.Replayed);
        Assert.Equal(0, publisher.Counters.Undelivered);
    }

    [Fact]
    public async Task ASubscriberThatNeverComesBack_IsCountedAsUndelivered_NotSilentlyLost()
    {
        await using var server = await RedisServerFixture.StartAsync();
        await using var publisher = Bus(server, "pub", 20, o => o.OutageResubscribeTimeout = TimeSpan.FromMilliseconds(500));
        var subscriber = Bus(server, "gone", 20);
        await WaitForAsync(publisher, MessageBusState.Connected);
        await WaitForAsync(subscriber, MessageBusState.Connected);
        var collector = new MessageCollector();
        await subscriber.SubscribeAsync("gone", collector.Handler).DefaultTimeout();
        await publisher.PublishAsync("gone", "0"u8.ToArray()).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();

        var down = WaitForAsync(publisher, MessageBusState.Disconnected);
        await server.StopAsync();
        await down;
        await subscriber.DisposeAsync(); // a node that died with Redis
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync("gone", "x"u8.ToArray()).DefaultTimeout();
        }

        await server.RestartAsync();
        await WaitForAsync(publisher, MessageBusState.Connected);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (publisher.Counters.Replayed < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50); // the replay has no event; poll its counter with a deadline
        }

        Assert.Equal(5, publisher.Counters.Replayed);
        Assert.Equal(5, publisher.Counters.Undelivered); // one subscriber before the outage, none at the replay
    }
}
