using System.Globalization;

namespace Herald.Bench;

/// <summary>
/// Command line of both the orchestrator and the <c>generate</c> subcommand (the orchestrator passes
/// its resolved options on to the generator as the same flags).
/// </summary>
internal sealed class BenchOptions
{
    public static readonly string[] AllScenarios = ["fanout", "chat", "connections", "sse", "slow-consumer", "cluster", "soak"];
    public static readonly string[] AllTargets = ["herald", "socketio", "signalr", "ceiling"];

    public List<string> Scenarios { get; } = [];

    public List<string> Targets { get; } = [];

    public int? Clients { get; set; }

    public double? Duration { get; set; }

    public double? Warmup { get; set; }

    public int Window { get; set; } = 16;

    public double? Rate { get; set; }

    public int Size { get; set; } = 100;

    public int RoomSize { get; set; } = 10;

    public int Concurrency { get; set; } = 64;

    public int? Sources { get; set; }

    public bool Quick { get; set; }

    public bool NoPin { get; set; }

    /// <summary>
    /// Keep the runtime's tiered PGO on for the .NET targets. Off by default (DOTNET_TieredPGO=0 for every .NET target
    /// alike): a server pinned to one fully loaded core stays in the instrumented tier for longer than a run lasts, so
    /// the figures would measure the JIT's warm-up rather than the steady state (see docs/benchmarks.md).
    /// </summary>
    public bool TieredPgo { get; set; }

    public string? JsonFile { get; set; }

    // generator-only
    public string Protocol { get; set; } = "socketio";

    public int Port { get; set; }

    /// <summary>The second node's port (cluster scenario).</summary>
    public int Port2 { get; set; }

    public int ServerPid { get; set; }

    public string Label { get; set; } = "";

    public static string Usage => """
        usage: Herald.Bench <fanout|chat|connections|sse|slow-consumer|cluster|soak|all> [--target herald|socketio|signalr|ceiling|all[,..]]
                            [--clients N] [--duration S] [--warmup S] [--window W] [--rate R] [--size B]
                            [--room-size K] [--concurrency C] [--sources K] [--quick] [--no-pin] [--tiered-pgo] [--json FILE]
          fanout       N clients (1000) in one room; one publisher, W (16) messages outstanding
          chat         rooms of K (10) clients; every client sends R (2) messages/s to its room
          connections  open N (10000) idle connections; connect rate, server memory per connection
          sse          fanout to N (1000) EventSource clients (topic "bench") of Herald's SSE endpoint; herald only,
                       compared with herald's WebSocket fanout when both run (`fanout,sse --target herald`)
          slow-consumer  fanout to N (500) clients, then again with one more client that stops reading: the others'
                       deliveries/s with it over without it (goal >= 0.95), the server's RSS growth, and the time until
                       the server disconnects the slow client; herald only
          cluster      fanout across 2 nodes sharing a redis-server (started by the tool): N clients in one room, half on
                       each node, the publisher on node 1; herald (Redis pub/sub bus + cluster adapter), herald-streams
                       (the same on the Redis Streams bus) and socketio
                       (@socket.io/redis-adapter) only
          soak         churn for a long run (default 600 s): N (500) clients — WebSocket, polling and SSE — of which 5 %/s
                       leave and are replaced, 2 %/s switch rooms, acked echoes (some binary), R (20) msg/s to every room
                       and the SSE topic; samples the server's heap after a full GC, RSS and sessions every 5 s; reports
                       first/last-third means and slopes, and fails if messages are lost for clients that stayed or the
                       server's sessions do not return to 0 after all clients left; herald only (--quick: 60 clients, 15 s)
          --quick      every scenario a few seconds at small N, verifying every message (CI smoke)
        """;

    public static BenchOptions Parse(string[] args, int start)
    {
        var o = new BenchOptions();
        for (int i = start; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--target": o.Targets.AddRange(Split(Next(), AllTargets)); break;
                case "--clients": o.Clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--duration": o.Duration = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": o.Warmup = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--window": o.Window = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rate": o.Rate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--size": o.Size = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--room-size": o.RoomSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--concurrency": o.Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--sources": o.Sources = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--quick": o.Quick = true; break;
                case "--no-pin": o.NoPin = true; break;
                case "--tiered-pgo": o.TieredPgo = true; break;
                case "--json": o.JsonFile = Next(); break;
                case "--protocol": o.Protocol = Next(); break;
                case "--port": o.Port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--port2": o.Port2 = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--server-pid": o.ServerPid = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--label": o.Label = Next(); break;
                default:
                    if (a.StartsWith('-'))
                    {
                        throw new ArgumentException($"unknown option {a}");
                    }

                    o.Scenarios.AddRange(Split(a, AllScenarios));
                    break;
            }
        }

        if (o.Targets.Count == 0)
        {
            o.Targets.AddRange(AllTargets);
        }

        if (o.Window < 1 || o.Window > 1 << 14)
        {
            throw new ArgumentException("--window must be 1..16384");
        }

        if (o.Size < 40)
        {
            throw new ArgumentException("--size must be at least 40 bytes (sequence, sender and timestamp)");
        }

        return o;
    }

    public int ClientsFor(string scenario) => Clients ?? (scenario, Quick) switch
    {
        ("connections", true) => 200,
        ("connections", false) => 10_000,
        ("slow-consumer", false) => 500,
        ("soak", false) => 500,
        ("soak", true) => 60,
        (_, true) => 50,
        _ => 1_000,
    };

    public double DurationFor(string scenario) => Duration ?? (scenario, Quick) switch
    {
        ("soak", true) => 15,
        ("soak", false) => 600,
        (_, true) => 2,
        ("connections", _) => 3,
        _ => 10,
    };

    public double WarmupFor() => Warmup ?? (Quick ? 0.5 : 2);

    /// <summary>chat: messages/s per client; soak: messages/s to every room and to the SSE topic.</summary>
    public double RateFor(string? scenario = null) => Rate ?? (scenario == "soak" ? 20 : Quick ? 5 : 2);

    /// <summary>Flags that reproduce these options for one generator run.</summary>
    public List<string> ToGeneratorArgs(string scenario, string protocol, int port, int serverPid, string label)
    {
        var inv = CultureInfo.InvariantCulture;
        var list = new List<string>
        {
            "generate", scenario, "--protocol", protocol, "--port", port.ToString(inv),
            "--server-pid", serverPid.ToString(inv), "--label", label,
            "--clients", ClientsFor(scenario).ToString(inv), "--duration", DurationFor(scenario).ToString(inv),
            "--warmup", WarmupFor().ToString(inv), "--window", Window.ToString(inv), "--rate", RateFor(scenario).ToString(inv),
            "--size", Size.ToString(inv), "--room-size", RoomSize.ToString(inv), "--concurrency", Concurrency.ToString(inv),
        };
        if (Port2 > 0)
        {
            list.Add("--port2");
            list.Add(Port2.ToString(inv));
        }

        if (Sources is int s)
        {
            list.Add("--sources");
            list.Add(s.ToString(inv));
        }

        if (Quick)
        {
            list.Add("--quick");
        }

        return list;
    }

    private static IEnumerable<string> Split(string value, string[] all)
    {
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "all")
            {
                foreach (string x in all)
                {
                    yield return x;
                }
            }
            else if (Array.IndexOf(all, part) >= 0)
            {
                yield return part;
            }
            else
            {
                throw new ArgumentException($"unknown value '{part}' (expected {string.Join('|', all)}|all)");
            }
        }
    }
}
