using System.Diagnostics;

namespace Herald.Bench.Generator;

/// <summary>
/// fanout: N clients in room "bench", one publisher (not in the room) sending as fast as a window of
/// W outstanding messages allows. A message is outstanding until every one of the N clients got it,
/// so the slowest client paces the publisher and the figure is a sustainable delivery rate, not a
/// burst into socket buffers.
/// </summary>
internal static class FanoutScenario
{
    /// <summary>Publishes one payload (the span is only valid during the call).</summary>
    public delegate ValueTask PublishFunc(ReadOnlySpan<byte> payload);

    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        int n = ctx.Options.ClientsFor("fanout");
        var clients = await ctx.ConnectAndJoinAsync(n, static _ => "bench", result);
        var (pubs, failed, error) = await ctx.ConnectAsync(1, n);
        if (failed > 0)
        {
            throw new IOException("publisher could not connect: " + error);
        }

        var publisher = pubs[0];
        var sink = new FanoutSink(clients.Count, ctx.Options.Window);
        foreach (var c in clients)
        {
            c.Sink = sink;
        }

        await MeasureAsync(ctx, result, "fanout", sink, clients, n, payload => publisher.PublishAsync("bench", payload));
    }

    /// <summary>
    /// The measured part, shared with the <c>sse</c> scenario: publish with W outstanding until the duration ends,
    /// drain, then count deliveries, missing and out-of-order per client.
    /// </summary>
    public static async Task MeasureAsync(GeneratorContext ctx, ScenarioResult result, string scenario, FanoutSink sink,
        IReadOnlyList<DeliveryCounters> clients, int n, PublishFunc publish)
    {
        var o = ctx.Options;
        var cpu = new CpuMeter(o.ServerPid);
        byte[] buffer = new byte[Math.Max(o.Size, 64)];
        long seq = 0;
        long sentAtStart = 0;
        long deliveriesAtStart = 0;
        long start = Stopwatch.GetTimestamp();
        long warmEnd = start + (long)(o.WarmupFor() * Stopwatch.Frequency);
        long end = warmEnd + (long)(o.DurationFor(scenario) * Stopwatch.Frequency);
        bool measuring = false;
        long lastDeliveries = 0;
        await using (ctx.Progress(() =>
        {
            long d = sink.Deliveries;
            string line = $"{(measuring ? "measuring" : "warm-up")}: {d - lastDeliveries:N0} deliveries/s, sent {seq:N0}, p99 {sink.Histogram.ValueAt(0.99) / 1e6:F2} ms";
            lastDeliveries = d;
            return line;
        }))
        {
            while (true)
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
                    sentAtStart = seq;
                    deliveriesAtStart = sink.Deliveries;
                    cpu.Start();
                }

                var wait = TimeSpan.FromSeconds((double)((measuring ? end : warmEnd) - now) / Stopwatch.Frequency);
                if (!await sink.Window.WaitAsync(wait))
                {
                    continue;
                }

                sink.Begin(seq);
                int len = Payload.Write(buffer, seq, -1, Stopwatch.GetTimestamp(), o.Size);
                await publish(buffer.AsSpan(0, len));
                seq++;
            }

            double measured = (double)(Stopwatch.GetTimestamp() - warmEnd) / Stopwatch.Frequency;
            long deliveries = sink.Deliveries - deliveriesAtStart;
            cpu.Stop();
            result.MeasuredSeconds = measured;
            result.MessagesSent = seq;
            result.MessagesPerSecond = (seq - sentAtStart) / measured;
            result.DeliveriesPerSecond = deliveries / measured;
            result.ServerCpuPercent = cpu.ServerPercent;
            result.GeneratorCpuPercent = cpu.SelfPercent;
            result.ServerRssBytes = ProcessStats.ReadRss(o.ServerPid);

            // Drain: wait for the window's last messages (bounded).
            var drainUntil = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
            while (sink.Completed < seq && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(20);
            }
        }

        long missing = 0;
        long order = 0;
        foreach (var c in clients)
        {
            missing += Math.Max(0, seq - c.Received);
            order += c.OrderErrors + Math.Max(0, c.Received - seq);
        }

        result.Deliveries = sink.Deliveries;
        result.ExpectedDeliveries = seq * clients.Count;
        result.Missing = missing + ((long)(n - clients.Count) * seq);
        result.OrderErrors = order + sink.BadPayloads;
        LatencyFields.Fill(result, sink.Histogram);
        ctx.Log($"done: {result.DeliveriesPerSecond:N0} deliveries/s, {result.Missing} missing");
    }
}

/// <summary>Counts deliveries and frees a window slot when a message reached all clients.</summary>
internal sealed class FanoutSink(int clients, int window) : IDeliverySink, ICountingSink
{
    private const int RingSize = 1 << 16;
    private readonly int[] _remaining = new int[RingSize];
    private long _deliveries;
    private long _completed;
    private long _bad;
    private LatencyHistogram _histogram = new();

    public SemaphoreSlim Window { get; } = new(window, int.MaxValue);

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long Completed => Interlocked.Read(ref _completed);

    public long BadPayloads => Interlocked.Read(ref _bad);

    public LatencyHistogram Histogram => Volatile.Read(ref _histogram);

    public void ResetHistogram() => Volatile.Write(ref _histogram, new LatencyHistogram());

    public void Begin(long seq)
    {
        // A slot still non-zero here belongs to a message 65,536 sends ago that some client never got.
        Volatile.Write(ref _remaining[seq & (RingSize - 1)], clients);
    }

    void IDeliverySink.OnDelivery(BenchClient client, ReadOnlySpan<byte> payload) => OnDelivery(client, payload);

    public void OnDelivery(DeliveryCounters client, ReadOnlySpan<byte> payload)
    {
        if (!Payload.TryRead(payload, out long seq, out _, out long ts))
        {
            Interlocked.Increment(ref _bad);
            return;
        }

        Histogram.Record((long)((Stopwatch.GetTimestamp() - ts) * GeneratorRunner.NanosPerTick));
        client.Received++;
        if (seq != client.NextSeq)
        {
            client.OrderErrors++;
        }

        client.NextSeq = seq + 1;
        Interlocked.Increment(ref _deliveries);
        if (Interlocked.Decrement(ref _remaining[seq & (RingSize - 1)]) == 0)
        {
            Interlocked.Increment(ref _completed);
            Window.Release();
        }
    }
}

internal static class LatencyFields
{
    public static void Fill(ScenarioResult result, LatencyHistogram h)
    {
        result.P50Ms = h.ValueAt(0.50) / 1e6;
        result.P99Ms = h.ValueAt(0.99) / 1e6;
        result.P999Ms = h.ValueAt(0.999) / 1e6;
        result.MaxMs = h.Max / 1e6;
    }
}
