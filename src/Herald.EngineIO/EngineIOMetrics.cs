using System.Diagnostics.Metrics;

namespace Herald.EngineIO;

/// <summary>
/// The <c>Herald.EngineIO</c> meter (System.Diagnostics.Metrics; <c>dotnet-counters monitor -n app Herald.EngineIO</c>
/// or OpenTelemetry's <c>AddMeter("Herald.EngineIO")</c>). Static like the runtime's own meters: the counters
/// are process-wide, summed over every Engine.IO server of the process.
/// </summary>
public static class EngineIOMetrics
{
    /// <summary>The meter name, <c>Herald.EngineIO</c>.</summary>
    public const string MeterName = "Herald.EngineIO";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Volatile messages not sent: the connection was busy when they were emitted, or they were evicted from a full queue.</summary>
    internal static readonly Counter<long> VolatileDropped = s_meter.CreateCounter<long>(
        "herald.engineio.volatile_dropped", "{message}", "Volatile messages dropped because the connection was not writable or its queue was full.");

    /// <summary>Sessions closed because their outbound queue went over MaxOutboundQueue or MaxOutboundBytes.</summary>
    internal static readonly Counter<long> SlowClientDisconnects = s_meter.CreateCounter<long>(
        "herald.engineio.slow_client_disconnects", "{session}", "Sessions closed because the client did not read fast enough (outbound queue over its bound).");
}
