using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Herald.Messaging.Internal;

/// <summary>
/// The <c>Herald.Messaging</c> meter: what the buses carry. Instruments are static and tag-free, so recording costs
/// one enabled-check when nobody listens (<c>dotnet-counters monitor --counters Herald.Messaging</c>, a
/// <see cref="MeterListener"/>, OpenTelemetry).
/// </summary>
/// <remarks>
/// <para>Public as a building block for <see cref="IMessageBus"/> implementations (Herald.Redis, a third-party bus), so
/// that every bus delivers with the same ordering and pattern semantics; applications do not need it.</para>
/// </remarks>
public static class MessagingMetrics
{
    /// <summary>The meter's name, <c>Herald.Messaging</c>.</summary>
    public const string MeterName = "Herald.Messaging";

    private static readonly Meter s_meter = new(MeterName, typeof(MessagingMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Published = s_meter.CreateCounter<long>(
        "herald.messaging.bus.published", "{message}", "Messages handed to the message bus by this process.");

    internal static readonly Counter<long> PublishedBytes = s_meter.CreateCounter<long>(
        "herald.messaging.bus.published.bytes", "By", "Payload bytes handed to the message bus by this process.");

    internal static readonly Counter<long> Received = s_meter.CreateCounter<long>(
        "herald.messaging.bus.received", "{message}", "Messages the bus delivered to this process's subscriptions (one per matching channel or pattern).");

    internal static readonly Histogram<double> PublishDuration = s_meter.CreateHistogram<double>(
        "herald.messaging.bus.publish.duration", "s", "How long a publication took until the bus accepted it (Redis: the PUBLISH round trip; in memory: the local dispatch).");

    /// <summary>Counts a publication; returns a start timestamp when the latency histogram is listened to, else 0.</summary>
    /// <param name="bytes">The payload size.</param>
    /// <returns>The start timestamp, or 0.</returns>
    public static long StartPublish(int bytes)
    {
        Published.Add(1);
        PublishedBytes.Add(bytes);
        return PublishDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>Records the latency of a publication started with <see cref="StartPublish"/>.</summary>
    /// <param name="start">What <see cref="StartPublish"/> returned.</param>
    public static void EndPublish(long start)
    {
        if (start != 0)
        {
            PublishDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    /// <summary>Records the latency once <paramref name="publish"/> completes (no allocation when it already did).</summary>
    /// <param name="publish">The pending publication.</param>
    /// <param name="start">What <see cref="StartPublish"/> returned.</param>
    /// <returns><paramref name="publish"/>, recorded on completion.</returns>
    public static ValueTask Track(ValueTask publish, long start)
    {
        if (start == 0)
        {
            return publish;
        }

        if (publish.IsCompletedSuccessfully)
        {
            EndPublish(start);
            return publish;
        }

        return Awaited(publish, start);

        static async ValueTask Awaited(ValueTask publish, long start)
        {
            await publish.ConfigureAwait(false);
            EndPublish(start);
        }
    }
}
