using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Herald.Redis;

/// <summary>
/// The <c>Herald.Redis</c> meter: the publication counters of every Redis bus in the process
/// (<see cref="RedisMessageBusCounters"/>), as observable counters tagged with the bus's <c>node</c>:
/// <c>herald.redis.published</c>, <c>.buffered</c>, <c>.replayed</c>, <c>.dropped</c>, <c>.undelivered</c>,
/// <c>.failed</c> and <c>.missed</c> (a bus that reads a log, such as a Redis stream: entries trimmed before it read them). The hub shows them in <c>/admin/api/metrics</c> and exports them over OTLP
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
        Counter(meter, "published", "Publications Redis accepted (replayed ones included).");
        Counter(meter, "buffered", "Publications kept in the outage buffer while Redis was unreachable.");
        Counter(meter, "replayed", "Buffered publications sent after Redis came back.");
        Counter(meter, "dropped", "Publications dropped while Redis was unreachable (the outage buffer full or off).");
        Counter(meter, "undelivered", "Deliveries lost in a replay: subscribers missing compared with before the outage.");
        Counter(meter, "failed", "Publications lost in flight or refused before Redis was first reached.");
        Counter(meter, "missed", "Entries of a log-reading bus (Redis Streams) trimmed before this node read them.");
        return meter;
    }

    private static void Counter(Meter meter, string name, string description)
        => meter.CreateObservableCounter("herald.redis." + name, () => Observe(name), "{publication}", description);

    private static IEnumerable<Measurement<long>> Observe(string name)
    {
        foreach (var tracked in s_tracked.Keys)
        {
            if (tracked.Read(name) is { } value)
            {
                yield return new Measurement<long>(value, new KeyValuePair<string, object?>("node", tracked.Node));
            }
        }
    }

    /// <summary>Reports the pub/sub bus's <paramref name="counters"/> under <paramref name="node"/> until the returned handle is disposed.</summary>
    internal static IDisposable Track(string node, RedisMessageBusCounters counters)
        => Track(node, name => name switch
        {
            "published" => counters.Published,
            "buffered" => counters.Buffered,
            "replayed" => counters.Replayed,
            "dropped" => counters.Dropped,
            "undelivered" => counters.Undelivered,
            "failed" => counters.Failed,
            _ => null,
        });

    /// <summary>
    /// Reports a bus's counters under <paramref name="node"/> until the returned handle is disposed; <paramref name="read"/>
    /// gives a counter by its short name (<c>dropped</c>), or null for one the bus does not have.
    /// </summary>
    internal static IDisposable Track(string node, Func<string, long?> read)
    {
        _ = s_meter; // created on first use
        var tracked = new Tracked(node, read);
        s_tracked.TryAdd(tracked, 0);
        return tracked;
    }

    private sealed class Tracked(string node, Func<string, long?> read) : IDisposable
    {
        public string Node { get; } = node;

        public Func<string, long?> Read { get; } = read;

        public void Dispose() => s_tracked.TryRemove(this, out _);
    }
}
