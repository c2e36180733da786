using System.Diagnostics;
using System.Globalization;
using System.Text;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

/// <summary>
/// The Redis Streams bus through a Redis outage, a node restart and a trimmed stream, each on its own redis-server.
/// Redis runs with <c>appendonly yes</c>, <c>appendfsync always</c> here: a killed Redis keeps its stream only with
/// persistence, which is what a deployment that wants lossless delivery across a Redis crash runs.
/// </summary>
public sealed class RedisStreamsOutageTests
{
    private static byte[] Bytes(int i) => Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture));

    private static int Number(byte[] payload) => int.Parse(Encoding.UTF8.GetString(payload), CultureInfo.InvariantCulture);

    private static Task<RedisServerFixture> StartPersistentAsync()
        => RedisServerFixture.StartAsync("--appendonly", "yes", "--appendfsync", "always", "--dir", Directory.CreateTempSubdirectory("herald-streams-").FullName);

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
    public async Task RedisKilledFor15s_At200PerSecond_EveryMessageArrivesOnce_InOrder_OnBothNodes()
    {
        await using var server = await StartPersistentAsync();
        var logs = new TestLogSink();
        await using var a = RedisStreamsMessageBusTests.CreateStreamsBus(server, "node-a", logs.CreateFactory());
        await using var b = RedisStreamsMessageBusTests.CreateStreamsBus(server, "node-b", logs.CreateFactory());
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        var onA = new MessageCollector();
        var onB = new MessageCollector();
        var patternOnB = new MessageCollector();
        await using var s1 = await a.SubscribeAsync("ticks", onA.Handler).DefaultTimeout();
        await using var s2 = await b.SubscribeAsync("ticks", onB.Handler).DefaultTimeout();
        await using var s3 = await b.SubscribePatternAsync("tick*", patternOnB.Handler).DefaultTimeout();

        // 200 msgs/s from A for 21 s: 3 s before, 15 s of outage, 3 s after.
        var sent = 0;
        var failures = new List<Exception>();
        var localDuringOutage = -1;
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                var due = (int)(clock.Elapsed.TotalSeconds * 200);
                while (sent < due)
                {
                    try
                    {
                        await a.PublishAsync("ticks", Bytes(sent));
                    }
                    catch (Exception e)
                    {
                        failures.Add(e);
                    }

                    sent++;
                }

                await Task.Delay(5);
            }
        });

        await onB.WaitForCountAsync(600).DefaultTimeout();
        var disconnected = WaitForStateAsync(a, MessageBusState.Disconnected);
        var outage = Stopwatch.StartNew();
        await server.StopAsync().DefaultTimeout();
        await disconnected.DefaultTimeout();
        var killedAt = sent;

        // Local delivery never waits for Redis: A's own subscriber keeps receiving while Redis is down.
        await onA.WaitForCountAsync(killedAt + 400).WaitAsync(TimeSpan.FromSeconds(10));
        localDuringOutage = onA.Count;
        await Task.Delay(TimeSpan.FromSeconds(15) - outage.Elapsed); // the outage lasts 15 s
        var countOnBDuringOutage = onB.Count;
        var reconnected = WaitForStateAsync(a, MessageBusState.Connected);
        await server.RestartAsync().DefaultTimeout();
        await reconnected.WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await publisher.DefaultTimeout();

        Assert.Empty(failures);
        Assert.True(localDuringOutage >= killedAt + 400, $"A's subscriber got {localDuringOutage} of {killedAt}+ while Redis was down");
        Assert.True(countOnBDuringOutage < killedAt + 100, "B cannot have received the outage's publications before Redis was back");
        await onA.WaitForCountAsync(sent).WaitAsync(TimeSpan.FromSeconds(20));
        await onB.WaitForCountAsync(sent).WaitAsync(TimeSpan.FromSeconds(20));
        await patternOnB.WaitForCountAsync(sent).WaitAsync(TimeSpan.FromSeconds(20));

        // Exactly once, in order, on both nodes.
        var expected = Enumerable.Range(0, sent).ToArray();
        Assert.Equal(expected, onA.Messages.Select(m => Number(m.Payload)).ToArray());
        Assert.Equal(expected, onB.Messages.Select(m => Number(m.Payload)).ToArray());
        Assert.Equal(expected, patternOnB.Messages.Select(m => Number(m.Payload)).ToArray());
        Assert.True(a.Counters.Buffered >= 2900, $"buffered {a.Counters.Buffered}");
        Assert.Equal(0, a.Counters.Dropped);
        Assert.Equal(0, b.Counters.Missed);
        Assert.Equal(0, a.BufferedCount);
    }

    [Fact]
    public async Task NodeStoppedAndRestarted_ResumesFromItsLastId()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var logs = new TestLogSink();
        void Resume(RedisStreamsMessageBusOptions o) => o.ResumeAfterRestart = true;
        await using var publisher = RedisStreamsMessageBusTests.CreateStreamsBus(server, "publisher", logs.CreateFactory(), Resume);
        await WaitForStateAsync(publisher, MessageBusState.Connected).DefaultTimeout();

        var worker = RedisStreamsMessageBusTests.CreateStreamsBus(server, "worker", logs.CreateFactory(), Resume);
        await WaitForStateAsync(worker, MessageBusState.Connected).DefaultTimeout();
        var first = new MessageCollector();
        await worker.SubscribeAsync("jobs", first.Handler).DefaultTimeout();
        for (var i = 0; i < 50; i++)
        {
            await publisher.PublishAsync("jobs", Bytes(i)).DefaultTimeout();
        }

        await first.WaitForCountAsync(50).DefaultTimeout();
        await worker.DisposeAsync().DefaultTimeout();

        // Published while the worker is down.
        for (var i = 50; i < 120; i++)
        {
            await publisher.PublishAsync("jobs", Bytes(i)).DefaultTimeout();
        }

        await using var restarted = RedisStreamsMessageBusTests.CreateStreamsBus(server, "worker", logs.CreateFactory(), Resume);
        await WaitForStateAsync(restarted, MessageBusState.Connected).DefaultTimeout();
        var second = new MessageCollector();
        await using var _ = await restarted.SubscribeAsync("jobs", second.Handler).DefaultTimeout();
        await publisher.PublishAsync("jobs", Bytes(120)).DefaultTimeout();

        await second.WaitForCountAsync(71).DefaultTimeout();
        Assert.Equal(Enumerable.Range(0, 50), first.Messages.Select(m => Number(m.Payload)));
        Assert.Equal(Enumerable.Range(50, 71), second.Messages.Select(m => Number(m.Payload)));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2024); // resumed
        Assert.Equal(0, restarted.Counters.Gaps);
    }

    [Fact]
    public async Task NodeRestartedWithoutResume_StartsAtTheEnd()
    {
        await using var server = await RedisServerFixture.StartAsync();
        await using var publisher = RedisStreamsMessageBusTests.CreateStreamsBus(server, "publisher");
        await WaitForStateAsync(publisher, MessageBusState.Connected).DefaultTimeout();
        for (var i = 0; i < 20; i++)
        {
            await publisher.PublishAsync("jobs", Bytes(i)).DefaultTimeout();
        }

        await using var late = RedisStreamsMessageBusTests.CreateStreamsBus(server, "late");
        await WaitForStateAsync(late, MessageBusState.Connected).DefaultTimeout();
        var collector = new MessageCollector();
        await using var _ = await late.SubscribeAsync("jobs", collector.Handler).DefaultTimeout();
        await publisher.PublishAsync("jobs", Bytes(20)).DefaultTimeout();

        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal([20], collector.Messages.Select(m => Number(m.Payload)));
    }

    [Fact]
    public async Task EntriesTrimmedBeforeANodeReadThem_AreCountedAndLogged()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var logs = new TestLogSink();
        void Short(RedisStreamsMessageBusOptions o) => o.MaxLength = 10;
        await using var a = RedisStreamsMessageBusTests.CreateStreamsBus(server, "a", logs.CreateFactory(), Short);
        await using var b = RedisStreamsMessageBusTests.CreateStreamsBus(server, "b", logs.CreateFactory(), Short);
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();

        // B's handler holds the first message until A has published 1,000: B's reader falls behind the retention.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new MessageCollector();
        await using var _ = await b.SubscribeAsync("fast", async m =>
        {
            received.Add(m);
            if (received.Count == 1)
            {
                await release.Task;
            }
        }).DefaultTimeout();
        await a.PublishAsync("fast", Bytes(0)).DefaultTimeout();
        await received.WaitForCountAsync(1).DefaultTimeout();
        var publications = Enumerable.Range(1, 999).Select(i => a.PublishAsync("fast", Bytes(i)).AsTask()).ToArray();
        await Task.WhenAll(publications).DefaultTimeout();
        var logged = logs.WaitForAsync(e => e.EventId.Id == 2021);
        release.SetResult();

        // The last one always arrives; everything before it is either delivered or counted.
        await WaitUntilAsync(() => received.Messages.LastOrDefault().Payload is { } p && Number(p) == 999);
        await logged.DefaultTimeout();
        var numbers = received.Messages.Select(m => Number(m.Payload)).ToArray();
        Assert.Equal(numbers.Order(), numbers);
        Assert.Equal(numbers.Distinct().Count(), numbers.Length);
        Assert.True(b.Counters.Missed > 0);
        Assert.Equal(1000, numbers.Length + b.Counters.Missed);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("condition not met in 10 s");
            }

            // A condition over collected messages, polled with a deadline: no single event signals it.
            await Task.Delay(20);
        }
    }
}
