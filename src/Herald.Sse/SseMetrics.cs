using System.Diagnostics.Metrics;

namespace Herald.Sse;

/// <summary>
/// The <c>Herald.Sse</c> meter (System.Diagnostics.Metrics; <c>AddMeter("Herald.Sse")</c> in OpenTelemetry).
/// Process-wide, like the runtime's own meters.
/// </summary>
public static class SseMetrics
{
    /// <summary>The meter name, <c>Herald.Sse</c>.</summary>
    public const string MeterName = "Herald.Sse";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Connections ended because their queue went over <see cref="SseOptions.MaxQueuedMessages"/> or <see cref="SseOptions.MaxQueuedBytes"/>.</summary>
    internal static readonly Counter<long> SlowClientDisconnects = s_meter.CreateCounter<long>(
        "herald.sse.slow_client_disconnects", "{connection}", "SSE connections closed because the client did not read fast enough.");

    /// <summary>Connections refused with 503 because <see cref="SseOptions.MaxClients"/> were open.</summary>
    internal static readonly Counter<long> ConnectionsRefused = s_meter.CreateCounter<long>(
        "herald.sse.connections_refused", "{connection}", "SSE connections refused because MaxClients were open.");
}
