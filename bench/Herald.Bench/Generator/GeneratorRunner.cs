using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Herald.Bench.Generator;

/// <summary>
/// The <c>generate</c> subcommand: runs one scenario against one already-running server, prints
/// progress on stderr and one <c>RESULT {json}</c> line on stdout for the orchestrator.
/// </summary>
internal static class GeneratorRunner
{
    public static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public static async Task<int> RunAsync(BenchOptions o)
    {
        string scenario = o.Scenarios.Count == 1 ? o.Scenarios[0] : throw new ArgumentException("generate takes one scenario");
        var result = new ScenarioResult { Scenario = scenario, Target = o.Label, Clients = o.ClientsFor(scenario) };
        try
        {
            var ctx = new GeneratorContext(o, scenario);
            switch (scenario)
            {
                case "fanout":
                    await FanoutScenario.RunAsync(ctx, result);
                    break;
                case "chat":
                    await ChatScenario.RunAsync(ctx, result);
                    break;
                case "sse":
                    await SseScenario.RunAsync(ctx, result);
                    break;
                case "slow-consumer":
                    await SlowConsumerScenario.RunAsync(ctx, result);
                    break;
                case "cluster":
                    await ClusterScenario.RunAsync(ctx, result);
                    break;
                case "soak":
                    await Soak.SoakScenario.RunAsync(ctx, result);
                    break;
                default:
                    await ConnectionsScenario.RunAsync(ctx, result);
                    break;
            }

            result.Ok = result.Error is null && result.Missing == 0 && result.OrderErrors == 0 && result.Connected == result.Clients;
        }
        catch (Exception e)
        {
            result.Ok = false;
            result.Error = e.GetType().Name + ": " + e.Message;
        }

        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, BenchLineJsonContext.Default.ScenarioResult));
        Console.Out.Flush();
        return result.Ok ? 0 : 1;
    }
}

/// <summary>Shared plumbing of the scenarios: endpoint, source addresses, connecting, progress.</summary>
internal sealed class GeneratorContext(BenchOptions options, string scenario)
{
    public BenchOptions Options { get; } = options;

    public string Scenario { get; } = scenario;

    public bool SignalR => Options.Protocol == "signalr";

    public IPEndPoint Server { get; } = new(IPAddress.Loopback, options.Port);

    public void Log(string message) => Console.Error.WriteLine($"  [{Options.Label} {Scenario}] {message}");

    /// <summary>
    /// Loopback source addresses: one ephemeral range (~28k ports) per address toward one server port,
    /// so above ~20k connections the clients spread over 127.0.0.1, .2, .3 …
    /// </summary>
    private IPAddress?[] SourceAddresses(int n)
    {
        int count = Options.Sources ?? (n > 20_000 ? (n / 20_000) + 1 : 0);
        if (count <= 0)
        {
            return [null];
        }

        var list = new IPAddress?[count];
        for (int i = 0; i < count; i++)
        {
            list[i] = new IPAddress([127, 0, 0, (byte)(1 + i)]);
        }

        return list;
    }

    /// <summary>Connects n clients with bounded concurrency; failures are counted, not thrown.</summary>
    public Task<(List<BenchClient> Clients, int Failed, string? FirstError)> ConnectAsync(int n, int firstIndex, Action<int>? progress = null)
        => ConnectManyAsync(n, (source, i, ct) => BenchClient.ConnectAsync(SignalR, Server, source, firstIndex + i, ct), progress);

    /// <summary>Connects n clients of any kind with bounded concurrency and spread source addresses; failures are counted.</summary>
    public async Task<(List<T> Clients, int Failed, string? FirstError)> ConnectManyAsync<T>(
        int n, Func<IPAddress?, int, CancellationToken, Task<T>> connect, Action<int>? progress = null)
        where T : class
    {
        var sources = SourceAddresses(n);
        var slots = new T?[n];
        int next = -1;
        int connected = 0;
        int failed = 0;
        string? firstError = null;
        using var cts = new CancellationTokenSource();
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                try
                {
                    slots[i] = await connect(sources[i % sources.Length], i, cts.Token);
                    progress?.Invoke(Interlocked.Increment(ref connected));
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.GetType().Name + ": " + e.Message, null);
                }
            }
        }

        var workers = new Task[Math.Max(1, Math.Min(Options.Concurrency, n))];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Worker();
        }

        await Task.WhenAll(workers);
        var list = new List<T>(n);
        foreach (var c in slots)
        {
            if (c is not null)
            {
                list.Add(c);
            }
        }

        return (list, failed, firstError);
    }

    /// <summary>Connects the scenario's clients and has client i join room(i).</summary>
    public async Task<List<BenchClient>> ConnectAndJoinAsync(int n, Func<int, string> room, ScenarioResult result)
    {
        var sw = Stopwatch.StartNew();
        var (clients, failed, error) = await ConnectAsync(n, 0);
        result.Connected = clients.Count;
        if (failed > 0)
        {
            result.Error = $"{failed} of {n} connections failed; first: {error}";
        }

        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = Options.Concurrency },
            async (c, _) => await c.JoinAsync(room(c.Index)));
        Log($"{clients.Count} clients connected and joined in {sw.Elapsed.TotalSeconds:F1} s");
        return clients;
    }

    /// <summary>Prints a progress line every second until disposed.</summary>
    public IAsyncDisposable Progress(Func<string> line) => new ProgressPrinter(this, line);

    private sealed class ProgressPrinter : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public ProgressPrinter(GeneratorContext ctx, Func<string> line)
        {
            _loop = Loop(ctx, line, _stop.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }

        private static async Task Loop(GeneratorContext ctx, Func<string> line, CancellationToken ct)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    ctx.Log(line());
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
