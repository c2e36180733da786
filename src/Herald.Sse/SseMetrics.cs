using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Herald.Sse;

/// <summary>
/// The <c>Herald.Sse</c> meter (System.Diagnostics.Metrics; <c>AddMeter("Herald.Sse")</c> in OpenTelemetry).
/// Process-wide, like the runtime's own meters.
/// </summary>
public static class SseMetrics
{
    /// <summary>The meter name, <c>Herald.Sse</c>.</summary>
    public const string MeterName = "Herald.Sse";

    private static readonly Meter s_meter = new(MeterName, typeof(SseMetrics).Assembly.GetName().Version?.ToString());
    private static readonly ConditionalWeakTable<SseServer, object?> s_servers = [];

    /// <summary>Events queued to SSE clients (a publication counts once per client reached).</summary>
    internal static readonly Counter<long> EventsSent = s_meter.CreateCounter<long>(
        "herald.sse.events.sent", "{event}", "Events queued to SSE clients (a publication counts once per client reached; replays and heartbeats excluded).");

    /// <summary>Bytes of the events queued to SSE clients.</summary>
    internal static readonly Counter<long> BytesSent = s_meter.CreateCounter<long>(
        "herald.sse.bytes.sent", "By", "Bytes of the events queued to SSE clients.");

    /// <summary>Connections ended because their queue went over <see cref="SseOptions.MaxQueuedMessages"/> or <see cref="SseOptions.MaxQueuedBytes"/>.</summary>
    internal static readonly Counter<long> SlowClientDisconnects = s_meter.CreateCounter<long>(
        "herald.sse.slow_client_disconnects", "{connection}", "SSE connections closed because the client did not read fast enough.");

    /// <summary>Connections refused with 503 because <see cref="SseOptions.MaxClients"/> were open.</summary>
    internal static readonly Counter<long> ConnectionsRefused = s_meter.CreateCounter<long>(
        "herald.sse.connections_refused", "{connection}", "SSE connections refused because MaxClients were open.");

    /// <summary>Disconnected clients forgotten early because <see cref="SseOptions.MaxDisconnectedClients"/> were kept.</summary>
    internal static readonly Counter<long> DisconnectedClientsEvicted = s_meter.CreateCounter<long>(
        "herald.sse.disconnected_clients_evicted", "{client}", "Disconnected SSE clients forgotten before their replay window because MaxDisconnectedClients were kept.");

    // Static counters are tag-free (one enabled-check per delivery when nobody listens); the connection gauge is
    // observed only when a listener collects.
    static SseMetrics()
    {
        s_meter.CreateObservableUpDownCounter("herald.sse.connections", ObserveConnections, "{connection}", "Open SSE connections.");
    }

    internal static void Register(SseServer server) => s_servers.AddOrUpdate(server, null);

    internal static void Sent(int bytes)
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
