using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Herald.Redis;

/// <summary>
/// The <c>Herald.Redis</c> meter: the publication counters of every Redis bus in the process
/// (<see cref="RedisMessageBusCounters"/>), as observable counters tagged with the bus's <c>node</c>:
/// <c>herald.redis.published</c>, <c>.buffered</c>, <c>.replayed</c>, <c>.dropped</c>, <c>.undelivered</c> and
/// <c>.failed</c>. The hub shows them in <c>/admin/api/metrics</c> and exports them over OTLP
/// (<c>AddMeter("Herald.Redis")</c>), so that what an outage cost is countable from outside the process.
/// </summary>
public static class RedisMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Herald.Redis";

    private static readonly ConcurrentDictionary<Tracked, byte> s_tracked = new();
    private static readonly Meter s_meter = CreateMeter();

    private static Meter CreateMeter()
    {
        var meter = new Meter(MeterName);
        Counter(meter, "herald.redis.published", "Publications Redis accepted (replayed ones included).", static c => c.Published);
        Counter(meter, "herald.redis.buffered", "Publications kept in the outage buffer while Redis was unreachable.", static c => c.Buffered);
        Counter(meter, "herald.redis.replayed", "Buffered publications sent after Redis came back.", static c => c.Replayed);
        Counter(meter, "herald.redis.dropped", "Publications dropped while Redis was unreachable (the outage buffer full or off).", static c => c.Dropped);
        Counter(meter, "herald.redis.undelivered", "Deliveries lost in a replay: subscribers missing compared with before the outage.", static c => c.Undelivered);
        Counter(meter, "herald.redis.failed", "Publications lost in flight or refused before Redis was first reached.", static c => c.Failed);
        return meter;
    }

    private static void Counter(Meter meter, string name, string description, Func<RedisMessageBusCounters, long> read)
        => meter.CreateObservableCounter(name, () => Observe(read), "{publication}", description);

    private static IEnumerable<Measurement<long>> Observe(Func<RedisMessageBusCounters, long> read)
    {
        foreach (var tracked in s_tracked.Keys)
        {
            yield return new Measurement<long>(read(tracked.Counters), new KeyValuePair<string, object?>("node", tracked.Node));
        }
    }

    /// <summary>Reports <paramref name="counters"/> under <paramref name="node"/> until the returned handle is disposed.</summary>
    internal static IDisposable Track(string node, RedisMessageBusCounters counters)
    {
        _ = s_meter; // created on first use
        var tracked = new Tracked(node, counters);
        s_tracked.TryAdd(tracked, 0);
        return tracked;
    }

    private sealed class Tracked(string node, RedisMessageBusCounters counters) : IDisposable
    {
        public string Node { get; } = node;

        public RedisMessageBusCounters Counters { get; } = counters;

        public void Dispose() => s_tracked.TryRemove(this, out _);
    }
}
