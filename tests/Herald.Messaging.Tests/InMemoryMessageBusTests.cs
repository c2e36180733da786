using Herald.Testing;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

public sealed class InMemoryMessageBusTests : MessageBusSpecification
{
    protected override IMessageBus CreateBus(string nodeName, ILoggerFactory loggerFactory)
        => new InMemoryMessageBus(new HeraldNode(nodeName), loggerFactory.CreateLogger<InMemoryMessageBus>());

    [Fact]
    public async Task Publish_CompletesSynchronously_WhenHandlersDo()
    {
        await using var bus = new InMemoryMessageBus(new HeraldNode("n"));
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync("c", collector.Handler).DefaultTimeout();

        var publication = bus.PublishAsync("c", new byte[] { 1 });

        Assert.True(publication.IsCompletedSuccessfully);
        Assert.Equal(1, collector.Count);
    }

    /// <summary>
    /// Handlers that publish to each other's channels from two threads at once (what cluster nodes sharing one
    /// in-memory bus do when they answer each other's heartbeats): no delivery may wait for a handler of another
    /// subscription while holding its own, or the two threads deadlock.
    /// </summary>
    [Fact]
    public async Task HandlersPublishingToEachOthersChannels_FromTwoThreads_DoNotDeadlock()
    {
        await using var bus = new InMemoryMessageBus(new HeraldNode("n"));
        const int Rounds = 20_000;
        var pings = 0;
        var pongs = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (Volatile.Read(ref pings) >= Rounds && Volatile.Read(ref pongs) >= Rounds)
            {
                done.TrySetResult();
            }
        }

        await using var x = await bus.SubscribeAsync("x", m =>
        {
            if (m.Payload.Span[0] == 1)
            {
                _ = bus.PublishAsync("y", new byte[] { 2 }); // an answer, published from inside the handler
            }
            else
            {
                Interlocked.Increment(ref pongs);
                Check();
            }

            return ValueTask.CompletedTask;
        }).DefaultTimeout();
        await using var y = await bus.SubscribeAsync("y", m =>
        {
            if (m.Payload.Span[0] == 1)
            {
                _ = bus.PublishAsync("x", new byte[] { 2 });
            }
            else
            {
                Interlocked.Increment(ref pings);
                Check();
            }

            return ValueTask.CompletedTask;
        }).DefaultTimeout();

        var start = new Barrier(2);
        var threads = new[] { "x", "y" }.Select(channel => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < Rounds; i++)
            {
                _ = bus.PublishAsync(channel, new byte[] { 1 });
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        await done.Task.DefaultTimeout();
    }

    [Fact]
    public async Task AHandlerAwaitingAPublicationToItsOwnChannel_DoesNotWaitForItself()
    {
        await using var bus = new InMemoryMessageBus(new HeraldNode("n"));
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = await bus.SubscribeAsync("c", async m =>
        {
            if (m.Payload.Span[0] == 1)
            {
                await bus.PublishAsync("c", new byte[] { 2 });
            }
            else
            {
                second.TrySetResult();
            }
        }).DefaultTimeout();

        await bus.PublishAsync("c", new byte[] { 1 }).AsTask().DefaultTimeout();
        await second.Task.DefaultTimeout();
    }
}
