using System.Buffers.Binary;
using System.Text.Json;
using Herald.Messaging;
using Herald.Redis;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Cluster.Tests;

/// <summary>
/// Fault tests: a real redis-server is killed and restarted under load. Local delivery never stops, cross-node
/// delivery resumes, and what was published during the outage is either delivered after the reconnection (outage
/// buffer) or counted as dropped: sent = delivered + dropped, with order kept and nothing doubled.
/// </summary>
public sealed class RedisOutageTests
{
    private const int BufferSize = 40;

    private static void Configure(RedisMessageBusOptions o, RedisServerFixture redis)
    {
        o.Connection = RedisConnectionOptions.Parse(redis.ConnectionString);
        o.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
        o.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(100);
        o.OutageBufferSize = BufferSize;
        o.OutageReplayDelay = TimeSpan.FromMilliseconds(500);
    }

    private static Task WaitForStateAsync(IMessageBus bus, MessageBusState state)
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

    [Fact]
    public async Task TheBusBuffersWhatFitsDropsAndCountsTheRest_InOrder()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        var options = new RedisMessageBusOptions();
        Configure(options, redis);
        var logs = new TestLogSink();
        await using var publisher = new RedisMessageBus(new HeraldNode("pub"), Options.Create(options), logs.CreateFactory());
        await using var subscriber = new RedisMessageBus(new HeraldNode("sub"), Options.Create(options));
        await Task.WhenAll(WaitForStateAsync(publisher, MessageBusState.Connected), WaitForStateAsync(subscriber, MessageBusState.Connected)).DefaultTimeout();

        var received = new List<int>();
        var counts = new Dictionary<int, TaskCompletionSource>();
        var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await subscriber.SubscribeAsync("stream", m =>
        {
            var n = BinaryPrimitives.ReadInt32LittleEndian(m.Payload.Span);
            lock (received)
            {
                if (n < 0)
                {
                    end.TrySetResult();
                }
                else
                {
                    received.Add(n);
                    if (counts.Remove(received.Count, out var waiter))
                    {
                        waiter.TrySetResult();
                    }
                }
            }

            return ValueTask.CompletedTask;
        }).DefaultTimeout();

        Task ReceivedAsync(int count)
        {
            lock (received)
            {
                if (received.Count >= count)
                {
                    return Task.CompletedTask;
                }

                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                counts[count] = tcs;
                return tcs.Task;
            }
        }

        var sent = 0;
        var refused = 0;
        async Task PublishAsync(int n)
        {
            var payload = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(payload, n);
            try
            {
                await publisher.PublishAsync("stream", payload).DefaultTimeout();
            }
            catch (MessageBusException)
            {
                refused++;
            }
        }

        // Before: everything arrives.
        for (var i = 0; i < 100; i++)
        {
            await PublishAsync(++sent);
        }

        await ReceivedAsync(100).DefaultTimeout();

        // Outage: the first BufferSize publications are buffered, the rest are refused and counted.
        var down = WaitForStateAsync(publisher, MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down.DefaultTimeout();
        for (var i = 0; i < BufferSize + 25; i++)
        {
            await PublishAsync(++sent);
        }

        Assert.Equal(BufferSize, publisher.BufferedCount);
        Assert.Equal(25, publisher.Counters.Dropped);
        Assert.Equal(25, refused);

        // Back: the buffer goes out first, then what is published meanwhile, in order.
        var up = Task.WhenAll(WaitForStateAsync(publisher, MessageBusState.Connected), WaitForStateAsync(subscriber, MessageBusState.Connected));
        await redis.RestartAsync().DefaultTimeout();
        await up.DefaultTimeout();
        for (var i = 0; i < 100; i++)
        {
            await PublishAsync(++sent);
        }

        await PublishAsync(-1);
        try
        {
            await end.Task.DefaultTimeout();
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"received {received.Count}, buffered {publisher.BufferedCount} {publisher.Counters.Published} {publisher.Counters.Replayed}:\n" + string.Join("\n", logs.Entries.Select(e => e.Message)));
        }

        lock (received)
        {
            Assert.Equal(sent, received.Count + publisher.Counters.Dropped);
            Assert.Equal(received.Order(), received); // in order, each once
            Assert.Equal(received.Count, received.Distinct().Count());
        }

        Assert.Equal(BufferSize, publisher.Counters.Replayed); // the copies; what was published while they drained queued behind
        Assert.Equal(0, publisher.Counters.Failed);
        Assert.Equal(0, publisher.BufferedCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LocalDeliveryNeverStops_CrossNodeResumes_AndTheCountsAddUp(bool recovery)
    {
        await using var redis = await RedisServerFixture.StartAsync();
        void Bus(IServiceCollection services) => services.AddHeraldRedis(redis.ConnectionString, o => Configure(o, redis));
        Action<SocketIOOptions> io = o => o.ConnectionStateRecovery = recovery ? new ConnectionStateRecoveryOptions() : null;
        await using var a = await ClusterNode.StartAsync("node-a", Bus, configureIo: io);
        await using var b = await ClusterNode.StartAsync("node-b", Bus, configureIo: io);
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);
        var busA = (RedisMessageBus)a.Bus;
        await using var local = await a.ConnectAsync();
        await using var remote = await b.ConnectAsync();

        var sent = 0;
        void Emit(int count)
        {
            for (var i = 0; i < count; i++)
            {
                a.Io.Emit("n", ++sent);
            }
        }

        async Task<List<int>> ReadAsync(TestClient client, int count, bool untilEnd = false)
        {
            var numbers = new List<int>();
            while (untilEnd || numbers.Count < count)
            {
                var array = JsonDocument.Parse((await client.NextAsync())[1..]).RootElement;
                if (array[0].GetString() == "end")
                {
                    break;
                }

                numbers.Add(array[1].GetInt32());
            }

            return numbers;
        }

        Emit(100);
        var localNumbers = await ReadAsync(local, 100);
        var remoteNumbers = await ReadAsync(remote, 100);

        var down = WaitForStateAsync(busA, MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down.DefaultTimeout();

        // A heartbeat published in the instant before the bus noticed the outage found no connection and was
        // buffered too (never written, so no duplicate): it takes a slot.
        var slots = BufferSize - busA.BufferedCount;
        var droppedBefore = busA.Counters.Dropped;
        Emit(BufferSize + 30);
        localNumbers.AddRange(await ReadAsync(local, BufferSize + 30)); // local delivery did not stop
        var emitsDropped = busA.Counters.Dropped - droppedBefore;
        Assert.Equal(BufferSize + 30 - slots, emitsDropped);

        var up = Task.WhenAll(WaitForStateAsync(busA, MessageBusState.Connected), WaitForStateAsync(b.Bus, MessageBusState.Connected));
        await redis.RestartAsync().DefaultTimeout();
        await up.DefaultTimeout();
        Emit(100);
        localNumbers.AddRange(await ReadAsync(local, 100));
        a.Io.Emit("end");
        remoteNumbers.AddRange(await ReadAsync(remote, 0, untilEnd: true));

        Assert.Equal(Enumerable.Range(1, sent), localNumbers);
        Assert.Equal(sent, remoteNumbers.Count + emitsDropped);
        Assert.Equal(remoteNumbers.Order(), remoteNumbers);
        Assert.Equal(remoteNumbers.Count, remoteNumbers.Distinct().Count());
    }
}
