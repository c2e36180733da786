using System.Globalization;
using System.Text;

namespace Herald.Bench;

/// <summary>The Markdown tables: absolute figures per target, then Herald / each peer.</summary>
internal static partial class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Markdown(BenchReport report, BenchOptions o)
    {
        var sb = new StringBuilder();
        var m = report.Machine;
        sb.AppendLine(Inv, $"Machine: {m.Cpu}, {m.Processors} CPUs, {m.Os}; {m.Dotnet}; node {m.Node}. Servers pinned to CPU 0, generator to CPU 1; .NET targets with {(o.TieredPgo ? "tiered PGO on (runtime default)" : "DOTNET_TieredPGO=0 (steady state sooner; --tiered-pgo for the default)")}.");
        foreach (string scenario in o.Scenarios)
        {
            var rows = report.Results.Where(r => r.Scenario == scenario).ToList();
            sb.AppendLine();
            if (scenario == "connections")
            {
                Connections(sb, o, rows);
            }
            else if (scenario == "slow-consumer")
            {
                SlowConsumer(sb, o, rows);
            }
            else if (scenario == "soak")
            {
                Soak(sb, o, rows);
            }
            else
            {
                Messaging(sb, o, scenario, rows);
            }

            if (scenario == "sse")
            {
                SseVersusWebSocket(sb, report.Results);
            }
        }

        return sb.ToString();
    }

    private static void Messaging(StringBuilder sb, BenchOptions o, string scenario, List<ScenarioResult> rows)
    {
        string shape = scenario is "fanout" or "sse" or "cluster"
            ? $"{o.ClientsFor(scenario):N0} {(scenario == "sse" ? "EventSource clients in one topic" : scenario == "cluster" ? "clients in one room, half on each of 2 nodes sharing a redis-server, publisher on node 1" : "clients in one room")}, {o.Size}-byte messages, window {o.Window}"
            : $"{o.ClientsFor(scenario):N0} clients in rooms of {o.RoomSize}, each sending {o.RateFor().ToString(Inv)} msg/s, {o.Size}-byte messages";
        sb.AppendLine(Inv, $"### {scenario}: {shape}, {o.DurationFor(scenario).ToString(Inv)} s (+{o.WarmupFor().ToString(Inv)} s warm-up)");
        sb.AppendLine();
        sb.AppendLine("| target | deliveries/s | messages/s | p50 ms | p99 ms | p99.9 ms | max ms | server CPU | generator CPU | missing | status |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            if (r.Skipped || (r.Deliveries == 0 && !r.Ok))
            {
                sb.AppendLine(Inv, $"| {r.Target} | | | | | | | | | | {Status(r)} |");
                continue;
            }

            sb.AppendLine(Inv, $"| {r.Target} | {r.DeliveriesPerSecond:N0} | {r.MessagesPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.P999Ms:F2} | {r.MaxMs:F2} | {r.ServerCpuPercent:F0}% | {r.GeneratorCpuPercent:F0}% | {r.Missing:N0} | {Status(r)} |");
        }

        if (scenario != "sse")
        {
            Ratios(sb, rows, "deliveries/s (higher is better)", r => r.DeliveriesPerSecond, "p99 latency (lower is better)", r => r.P99Ms);
        }
    }

    /// <summary>Herald's SSE fan-out against Herald's WebSocket fan-out of the same run (goal: at least 0.8×).</summary>
    private static void SseVersusWebSocket(StringBuilder sb, List<ScenarioResult> all)
    {
        var sse = all.Find(r => r.Scenario == "sse" && r.Target == "herald" && r.Ok);
        var ws = all.Find(r => r.Scenario == "fanout" && r.Target == "herald" && r.Ok);
        sb.AppendLine();
        if (sse is null || ws is null)
        {
            sb.AppendLine("Herald SSE / Herald WebSocket fanout: run `fanout,sse --target herald` (both must succeed) for the ratio.");
            return;
        }

        sb.AppendLine(Inv, $"Herald SSE / Herald WebSocket fanout, same run: deliveries/s {Ratio(sse.DeliveriesPerSecond, ws.DeliveriesPerSecond)} " +
            $"({sse.DeliveriesPerSecond:N0} vs {ws.DeliveriesPerSecond:N0}; goal ≥ 0.80×), p99 {sse.P99Ms:F2} vs {ws.P99Ms:F2} ms.");
    }

    private static void SlowConsumer(StringBuilder sb, BenchOptions o, List<ScenarioResult> rows)
    {
        sb.AppendLine(Inv, $"### slow-consumer: {o.ClientsFor("slow-consumer"):N0} clients in one room, {Math.Max(o.Size, Generator.SlowConsumerScenario.MinSize)}-byte messages, window {o.Window}, " +
            $"{o.DurationFor("slow-consumer").ToString(Inv)} s without then {o.DurationFor("slow-consumer").ToString(Inv)} s with one client that stops reading");
        sb.AppendLine();
        sb.AppendLine("| target | deliveries/s without (mean of before and after) | with the slow client | ratio (goal ≥ 0.95) | slow client cut after | server RSS peak MB | RSS growth MB | live heap growth MB (bound 4) | missing | status |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            if (r.Skipped || (r.Deliveries == 0 && !r.Ok))
            {
                sb.AppendLine(Inv, $"| {r.Target} | | | | | | | | | {Status(r)} |");
                continue;
            }

            string heap = r.ServerHeapGrowthBytes >= 0 ? (r.ServerHeapGrowthBytes / 1048576.0).ToString("F2", Inv) : "n/a";
            string cut = r.SlowClientDisconnectSeconds >= 0 ? r.SlowClientDisconnectSeconds.ToString("F1", Inv) + " s" : "never";
            sb.AppendLine(Inv, $"| {r.Target} | {r.BaselineDeliveriesPerSecond:N0} | {r.DeliveriesPerSecond:N0} | {Ratio(r.DeliveriesPerSecond, r.BaselineDeliveriesPerSecond)} | {cut} | " +
                $"{r.ServerRssBytes / 1048576.0:F1} | {r.ServerRssGrowthBytes / 1048576.0:F1} | {heap} | {r.Missing:N0} | {Status(r)} |");
        }
    }

    private static void Connections(StringBuilder sb, BenchOptions o, List<ScenarioResult> rows)
    {
        sb.AppendLine(Inv, $"### connections: {o.ClientsFor("connections"):N0} idle connections, held {o.DurationFor("connections").ToString(Inv)} s");
        sb.AppendLine();
        sb.AppendLine("| target | connected | connects/s | RSS/conn KB | heap/conn KB | server RSS MB | server CPU | dropped+failed | status |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            if (r.Skipped || r.Connected == 0)
            {
                sb.AppendLine(Inv, $"| {r.Target} | | | | | | | | {Status(r)} |");
                continue;
            }

            sb.AppendLine(Inv, $"| {r.Target} | {r.Connected:N0} | {r.ConnectsPerSecond:N0} | {r.RssPerConnectionBytes / 1024:F1} | {r.HeapPerConnectionBytes / 1024:F1} | {r.ServerRssBytes / 1048576.0:F0} | {r.ServerCpuPercent:F0}% | {r.Missing:N0} | {Status(r)} |");
        }

        Ratios(sb, rows, "connects/s (higher is better)", r => r.ConnectsPerSecond, "RSS per connection (lower is better)", r => r.RssPerConnectionBytes);
    }

    private static void Ratios(StringBuilder sb, List<ScenarioResult> rows, string first, Func<ScenarioResult, double> a, string second, Func<ScenarioResult, double> b)
    {
        var herald = rows.Find(r => r.Target == "herald" && !r.Skipped && r.Error is null);
        sb.AppendLine();
        if (herald is null)
        {
            sb.AppendLine("Ratios Herald / peer: no successful herald run in this set.");
            return;
        }

        sb.AppendLine(Inv, $"| Herald / peer | {first} | {second} |");
        sb.AppendLine("|---|---:|---:|");

        // herald, and in the cluster scenario herald-streams (the Redis Streams bus), against every peer.
        foreach (var mine in rows)
        {
            if (!mine.Target.StartsWith("herald", StringComparison.Ordinal) || mine.Skipped || mine.Error is not null)
            {
                continue;
            }

            foreach (var r in rows)
            {
                if (r.Target.StartsWith("herald", StringComparison.Ordinal) || r.Skipped || r.Error is not null)
                {
                    continue;
                }

                sb.AppendLine(Inv, $"| {mine.Target} / {r.Target} | {Ratio(a(mine), a(r))} | {Ratio(b(mine), b(r))} |");
            }
        }
    }

    private static string Ratio(double x, double y) => y > 0 ? (x / y).ToString("F2", Inv) + "×" : "n/a";

    private static string Status(ScenarioResult r) =>
        r.Skipped ? "skipped (" + r.Error + ")"
        : r.Ok ? "ok"
        : "FAILED" + (r.Error is null ? r.OrderErrors > 0 ? $" ({r.OrderErrors} out of order/extra)" : "" : " (" + r.Error.Replace('|', '/') + ")");
}
