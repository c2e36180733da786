using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Herald.Sse.Internal;

/// <summary>
/// The <c>Herald.Sse</c> meter. Event counters are static and tag-free (one enabled-check per delivery when nobody
/// listens); the connection gauge is observed only when a listener collects.
/// </summary>
internal static class SseMetrics
{
    public const string MeterName = "Herald.Sse";

    private static readonly Meter s_meter = new(MeterName, typeof(SseMetrics).Assembly.GetName().Version?.ToString());
    private static readonly ConditionalWeakTable<SseServer, object?> s_servers = [];

    public static readonly Counter<long> EventsSent = s_meter.CreateCounter<long>(
        "herald.sse.events.sent", "{event}", "Events queued to SSE clients (a publication counts once per client reached; replays and heartbeats excluded).");

    public static readonly Counter<long> BytesSent = s_meter.CreateCounter<long>(
        "herald.sse.bytes.sent", "By", "Bytes of the events queued to SSE clients.");

    static SseMetrics()
    {
        s_meter.CreateObservableUpDownCounter("herald.sse.connections", ObserveConnections, "{connection}", "Open SSE connections.");
    }

    public static void Register(SseServer server) => s_servers.AddOrUpdate(server, null);

    public static void Sent(int bytes)
    {
        EventsSent.Add(1);
        BytesSent.Add(bytes);
    }

    private static int ObserveConnections()
    {
        var total = 0;
        foreach (var (server, _) in s_servers)
        {
            total += server.ConnectionCount;
        }

        return total;
    }
}
