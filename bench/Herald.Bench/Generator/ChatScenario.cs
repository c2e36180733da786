using System.Diagnostics;

namespace Herald.Bench.Generator;

/// <summary>
/// chat: rooms of K clients (client i is in room "r{i/K}"); every client sends R messages/s to its
/// room, spread evenly over time by one pacing loop; every member (sender included) receives each
/// message. Open loop: the offered rate does not slow down when the server does, so the achieved
/// send rate and the latency show saturation.
/// </summary>
internal static class ChatScenario
{
    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var o = ctx.Options;
        int n = o.ClientsFor("chat");
        int roomSize = Math.Max(1, o.RoomSize);
        var clients = await ctx.ConnectAndJoinAsync(n, i => "r" + (i / roomSize).ToString(System.Globalization.CultureInfo.InvariantCulture), result);
        int rooms = (n + roomSize - 1) / roomSize;
        var roomSent = new long[rooms];
        var sink = new ChatSink();
        foreach (var c in clients)
        {
            c.Sink = sink;
        }

        var cpu = new CpuMeter(o.ServerPid);
        byte[] buffer = new byte[Math.Max(o.Size, 64)];
        double totalRate = clients.Count * o.RateFor();
        long sent = 0;
        long sentAtStart = 0;
        long deliveriesAtStart = 0;
        long start = Stopwatch.GetTimestamp();
        long warmEnd = start + (long)(o.WarmupFor() * Stopwatch.Frequency);
        long end = warmEnd + (long)(o.DurationFor("chat") * Stopwatch.Frequency);
        bool measuring = false;
        long lastDeliveries = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        await using (ctx.Progress(() =>
        {
            long d = sink.Deliveries;
            string line = $"{(measuring ? "measuring" : "warm-up")}: {d - lastDeliveries:N0} deliveries/s, sent {sent:N0}, p99 {sink.Histogram.ValueAt(0.99) / 1e6:F2} ms";
            lastDeliveries = d;
            return line;
        }))
        {
            while (clients.Count > 0)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= end)
                {
                    break;
                }

                if (!measuring && now >= warmEnd)
                {
                    measuring = true;
                    sink.ResetHistogram();
                    sentAtStart = sent;
                    deliveriesAtStart = sink.Deliveries;
                    cpu.Start();
                }

                long due = (long)((double)(now - start) / Stopwatch.Frequency * totalRate);
                while (sent < due && Stopwatch.GetTimestamp() < end)
                {
                    var c = clients[(int)(sent % clients.Count)];
                    int len = Payload.Write(buffer, sent, c.Index, Stopwatch.GetTimestamp(), o.Size);
                    await c.PublishAsync(c.Room, buffer.AsSpan(0, len));
                    roomSent[c.Index / roomSize]++;
                    sent++;
                }

                await timer.WaitForNextTickAsync();
            }

            double measured = (double)(Stopwatch.GetTimestamp() - warmEnd) / Stopwatch.Frequency;
            cpu.Stop();
            result.MeasuredSeconds = measured;
            result.MessagesSent = sent;
            result.MessagesPerSecond = (sent - sentAtStart) / measured;
            result.DeliveriesPerSecond = (sink.Deliveries - deliveriesAtStart) / measured;
            result.ServerCpuPercent = cpu.ServerPercent;
            result.GeneratorCpuPercent = cpu.SelfPercent;
            result.ServerRssBytes = ProcessStats.ReadRss(o.ServerPid);

            var drainUntil = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < drainUntil && !AllArrived(clients, roomSent, roomSize))
            {
                await Task.Delay(20);
            }
        }

        long expected = 0;
        long missing = 0;
        long extra = 0;
        foreach (var c in clients)
        {
            long want = roomSent[c.Index / roomSize];
            expected += want;
            missing += Math.Max(0, want - c.Received);
            extra += Math.Max(0, c.Received - want);
        }

        result.Deliveries = sink.Deliveries;
        result.ExpectedDeliveries = expected;
        result.Missing = missing;
        result.OrderErrors = extra + sink.BadPayloads;
        LatencyFields.Fill(result, sink.Histogram);
        ctx.Log($"done: {result.DeliveriesPerSecond:N0} deliveries/s, {result.Missing} missing");
    }

    private static bool AllArrived(List<BenchClient> clients, long[] roomSent, int roomSize)
    {
        foreach (var c in clients)
        {
            if (c.Received < roomSent[c.Index / roomSize])
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class ChatSink : IDeliverySink
{
    private long _deliveries;
    private long _bad;
    private LatencyHistogram _histogram = new();

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long BadPayloads => Interlocked.Read(ref _bad);

    public LatencyHistogram Histogram => Volatile.Read(ref _histogram);

    public void ResetHistogram() => Volatile.Write(ref _histogram, new LatencyHistogram());

    public void OnDelivery(BenchClient client, ReadOnlySpan<byte> payload)
    {
        if (!Payload.TryRead(payload, out _, out _, out long ts))
        {
            Interlocked.Increment(ref _bad);
            return;
        }

        Histogram.Record((long)((Stopwatch.GetTimestamp() - ts) * GeneratorRunner.NanosPerTick));
        client.Received++;
        Interlocked.Increment(ref _deliveries);
    }
}
