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
    public async Task ConnectionsKilledMidBurst_EveryMessageOnce_InOrder_OnBothNodes()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var logs = new TestLogSink();
        await using var a = RedisStreamsMessageBusTests.CreateStreamsBus(server, "node-a", logs.CreateFactory());
        await using var b = RedisStreamsMessageBusTests.CreateStreamsBus(server, "node-b", logs.CreateFactory());
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        var onA = new MessageCollector();
        var onB = new MessageCollector();
        await using var s1 = await a.SubscribeAsync("burst", onA.Handler).DefaultTimeout();
        await using var s2 = await b.SubscribeAsync("burst", onB.Handler).DefaultTimeout();
        await using var raw = await RedisFixture.ConnectRawAsync(server);
        const int total = 8_000; // within the outage buffer (10,000): the burst is buffered while the connections come back

        // Pipelined: thousands of XADDs are in flight when every client connection (publishing and reading, both
        // nodes) is cut, twice.
        var publications = new Task[total];
        long killed = 0;
        for (var i = 0; i < total; i++)
        {
            publications[i] = a.PublishAsync("burst", Bytes(i)).AsTask();
            if (i is 2_000 or 5_000)
            {
                killed += (long)await raw.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").DefaultTimeout();
            }
        }

        await Task.WhenAll(publications).WaitAsync(TimeSpan.FromSeconds(60));
        string State() => $"A got {onA.Count}, B got {onB.Count}; A: retried {a.Counters.Retried}, buffered {a.Counters.Buffered}, duplicates {a.Counters.Duplicates}, missed {a.Counters.Missed}; B: duplicates {b.Counters.Duplicates}, missed {b.Counters.Missed}";
        var arrived = Task.WhenAll(onA.WaitForCountAsync(total), onB.WaitForCountAsync(total));
        if (await Task.WhenAny(arrived, Task.Delay(TimeSpan.FromSeconds(20))) != arrived)
        {
            var entries = await raw.GetDatabase().StreamRangeAsync("herald:stream");
            var seqs = entries.Where(e => e["o"].ToString().StartsWith("node-a", StringComparison.Ordinal)).Select(e => (long)e["s"]).ToList();
            var text = new System.Text.StringBuilder();
            for (var i = 1; i < seqs.Count; i++)
            {
                if (seqs[i] != seqs[i - 1] + 1)
                {
                    text.Append(System.Globalization.CultureInfo.InvariantCulture, $"[{i}: {seqs[i - 1]} -> {seqs[i]}] ");
                }
            }

            Assert.Fail(State() + " stream: " + text);
        }

        Assert.True(killed >= 4, $"killed {killed} connections");
        var expected = Enumerable.Range(0, total).ToArray();
        Assert.Equal(expected, onA.Messages.Select(m => Number(m.Payload)).ToArray());
        Assert.Equal(expected, onB.Messages.Select(m => Number(m.Payload)).ToArray());
        Assert.Equal(0, a.Counters.Dropped);
        Assert.Equal(0, b.Counters.Missed);
    }

    [Fact]
    public async Task AnAclUserLimitedToTheKeysOfThePrefix_IsEnough()
    {
        // No channel permission at all (&): the Streams bus uses keys only.
        await using var server = await RedisServerFixture.StartAsync(
            "--requirepass", "admin-secret",
            "--user", "herald-app", "on", ">app-secret", "~herald:*", "resetchannels", "+@all");
        void AsUser(RedisStreamsMessageBusOptions o)
        {
            o.Connection = RedisConnectionOptions.Parse(server.ConnectionString + ",user=herald-app,password=app-secret");
            o.ResumeAfterRestart = true;
        }

        await using var a = RedisStreamsMessageBusTests.CreateStreamsBus(server, "acl-a", null, AsUser);
        await using var b = RedisStreamsMessageBusTests.CreateStreamsBus(server, "acl-b", null, AsUser);
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        var collector = new MessageCollector();
        await using var _ = await b.SubscribePatternAsync("acl.*", collector.Handler).DefaultTimeout();
        await a.PublishAsync("acl.x", Bytes(1)).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();
        await b.DisposeAsync();

        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",password=admin-secret").DefaultTimeout();
        Assert.True(await admin.GetDatabase().HashExistsAsync("herald:stream:offsets", "acl-b:0").DefaultTimeout());
        var clients = (string)(await admin.GetDatabase().ExecuteAsync("CLIENT", "LIST").DefaultTimeout())!;
        Assert.Contains("name=herald-stream-reader", clients, StringComparison.Ordinal);
        Assert.All(clients.Split('\n').Where(l => l.Contains("name=herald-stream-reader", StringComparison.Ordinal)), l => Assert.Contains("user=herald-app", l, StringComparison.Ordinal));
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

    [Fact]
    public async Task RedisCluster_StreamsOnEveryShard_EveryMessageReachesTheOtherNode_InOrderPerChannel()
    {
        await using var cluster = await RedisClusterFixture.StartAsync();
        void OnCluster(RedisStreamsMessageBusOptions o) => o.StreamCount = 6;
        var logs = new TestLogSink();
        var options = RedisStreamsMessageBusTests.StreamsOptions(cluster.Nodes[0]);
        OnCluster(options);
        await using var a = new RedisStreamsMessageBus(new HeraldNode("cluster-a"), Microsoft.Extensions.Options.Options.Create(options), logs.CreateFactory());
        var optionsB = RedisStreamsMessageBusTests.StreamsOptions(cluster.Nodes[2]);
        OnCluster(optionsB);
        await using var b = new RedisStreamsMessageBus(new HeraldNode("cluster-b"), Microsoft.Extensions.Options.Options.Create(optionsB), logs.CreateFactory());
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        var collector = new MessageCollector();
        await using var _ = await b.SubscribePatternAsync("room-*", collector.Handler).DefaultTimeout();
        var channels = Enumerable.Range(0, 24).Select(i => $"room-{i}").ToArray();
        var publications = new List<Task>();
        for (var i = 0; i < 20; i++)
        {
            foreach (var channel in channels)
            {
                publications.Add(a.PublishAsync(channel, Bytes(i)).AsTask());
            }
        }

        await Task.WhenAll(publications).DefaultTimeout();
        await collector.WaitForCountAsync(20 * channels.Length).DefaultTimeout();
        foreach (var channel in channels)
        {
            Assert.Equal(Enumerable.Range(0, 20), collector.Messages.Where(m => m.Channel == channel).Select(m => Number(m.Payload)));
        }

        // The streams landed on more than one shard (each stream key hashes to its own slot).
        var shards = 0;
        foreach (var node in cluster.Nodes)
        {
            using var raw = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(node.ConnectionString).DefaultTimeout();
            var server = raw.GetServer(node.ConnectionString);
            var keys = 0;
            await foreach (var key in server.KeysAsync(pattern: "herald:stream:*"))
            {
                keys++; // SCAN on this node: only the keys it owns
            }

            shards += keys > 0 ? 1 : 0;
        }

        Assert.True(shards > 1, $"the 6 streams were on {shards} shard(s)");
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
