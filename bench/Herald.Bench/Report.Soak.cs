using System.Text;

namespace Herald.Bench;

internal static partial class Report
{
    private const int MaxSoakRows = 21;

    /// <summary>The soak run: memory over time (a sample table), flatness (thirds and slopes), counts, and the leak check.</summary>
    private static void Soak(StringBuilder sb, BenchOptions o, List<ScenarioResult> rows)
    {
        sb.AppendLine(Inv, $"### soak: {o.ClientsFor("soak"):N0} clients (60 % WebSocket, 25 % polling, 15 % SSE), 5 %/s churned (half graceful, 40 % abrupt, 10 % silent), 2 %/s moving rooms, " +
            $"echoes 0.5/s per Socket.IO client (1 in 10 binary), {o.RateFor("soak").ToString(Inv)} msg/s to every room and the SSE topic, {o.Size}-byte messages, " +
            $"{o.DurationFor("soak").ToString(Inv)} s");
        foreach (var r in rows)
        {
            sb.AppendLine();
            if (r.Skipped || r.Soak is not { } s)
            {
                sb.AppendLine(Inv, $"{r.Target}: {Status(r)}");
                continue;
            }

            sb.AppendLine(Inv, $"{r.Target}: {s.Rooms} rooms, {s.StableClients} stable clients, a sample every {s.SampleSeconds.ToString(Inv)} s " +
                $"(heap: managed heap after a forced full GC; sessions: Engine.IO sessions on the server / Socket.IO clients live in the generator, publisher included; the difference is mostly silent clients waiting for the server's heartbeat).");
            sb.AppendLine();
            sb.AppendLine("| t s | heap MB | RSS MB | sessions / live | sockets | SSE / live | connects/s | disconnects/s | deliveries/s | acks/s |");
            sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var samples = s.Samples;
            int step = Math.Max(1, (samples.Count + MaxSoakRows - 1) / MaxSoakRows);
            for (int i = 0; i < samples.Count; i++)
            {
                if (i % step != 0 && i != samples.Count - 1)
                {
                    continue;
                }

                var x = samples[i];
                sb.AppendLine(Inv, $"| {x.Seconds:F0} | {x.HeapBytes / 1048576.0:F1} | {x.RssBytes / 1048576.0:F1} | {x.EngineSessions} / {x.ClientsLive} | {x.Sockets} | " +
                    $"{x.Sse} / {x.SseLive} | {x.ConnectsPerSecond:F1} | {x.DisconnectsPerSecond:F1} | {x.DeliveriesPerSecond:N0} | {x.AcksPerSecond:N0} |");
            }

            if (step > 1)
            {
                sb.AppendLine();
                sb.AppendLine(Inv, $"(every {step}th of {samples.Count} samples; all of them are in the JSON report and in the slopes)");
            }

            sb.AppendLine();
            sb.AppendLine("| | heap MB | RSS MB |");
            sb.AppendLine("|---|---:|---:|");
            sb.AppendLine(Inv, $"| idle before the first client | {s.IdleHeapBeforeBytes / 1048576.0:F1} | {s.IdleRssBeforeBytes / 1048576.0:F1} |");
            sb.AppendLine(Inv, $"| mean of the first third of the samples | {s.HeapFirstThirdMb:F1} | {s.RssFirstThirdMb:F1} |");
            sb.AppendLine(Inv, $"| mean of the last third | {s.HeapLastThirdMb:F1} | {s.RssLastThirdMb:F1} |");
            sb.AppendLine(Inv, $"| least-squares slope, all samples (MB/min) | {s.HeapSlopeMbPerMinute:F2} | {s.RssSlopeMbPerMinute:F2} |");
            sb.AppendLine(Inv, $"| slope of the last two thirds (MB/min) | {s.HeapSlopeLateMbPerMinute:F2} | {s.RssSlopeLateMbPerMinute:F2} |");
            sb.AppendLine(Inv, $"| idle after every client left | {s.IdleHeapAfterBytes / 1048576.0:F1} | {s.IdleRssAfterBytes / 1048576.0:F1} |");
            sb.AppendLine();
            sb.AppendLine(Inv, $"Counts over {r.MeasuredSeconds:F0} s: {r.Connected:N0} initial connects, then {s.Connects - r.Connected:N0} connects and {s.Disconnects:N0} disconnects of churn ({r.ConnectsPerSecond:F1} connects/s; {s.Silent:N0} of the disconnects went silent, left to the server's heartbeat), " +
                $"{r.MessagesSent:N0} messages published, {r.Deliveries:N0} deliveries ({s.SocketIODeliveries:N0} Socket.IO, {s.SseDeliveries:N0} SSE; {r.DeliveriesPerSecond:N0}/s), " +
                $"{s.Echoes:N0} echoes and {s.Binaries:N0} binary emits acked, {s.Joins:N0} joins, {s.Leaves:N0} leaves; " +
                $"stable clients: {r.ExpectedDeliveries:N0} deliveries expected, {s.StableMissing:N0} missing; gaps in any client's stream {s.Gaps:N0}; " +
                $"strays (a left room's message after the leave's ack) {s.Strays:N0}; errors {s.Errors:N0} (connect failures {s.ConnectFailures:N0}, " +
                $"cut by the server {s.UnexpectedCloses:N0}, failed acks {s.AckFailures:N0}).");
            sb.AppendLine();
            string zero = s.SecondsToZero >= 0 ? $"0 within {s.SecondsToZero:F1} s" : "NOT back to 0";
            sb.AppendLine(Inv, $"After every client left: Engine.IO sessions {s.EngineSessionsAfter}, Socket.IO sockets {s.SocketsAfter}, SSE connections {s.SseAfter} ({zero}). Status: {Status(r)}.");
        }
    }
}
