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
