using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Herald.Bench;

/// <summary>
/// Runs every (scenario, target) pair in turn: start the target pinned to CPU 0, run the generator
/// (this same executable, <c>generate</c> subcommand) pinned to CPU 1, stop the target, collect the
/// generator's RESULT line; then print the Markdown tables and write the JSON report.
/// </summary>
internal static class Orchestrator
{
    public static async Task<int> RunAsync(BenchOptions o, string commandLine)
    {
        var paths = BenchPaths.Find();
        TargetServer.TieredPgo = o.TieredPgo;
        bool pin = !o.NoPin && Environment.ProcessorCount >= 2 && OnPath("taskset");
        if (!pin && !o.NoPin)
        {
            Console.Error.WriteLine("warning: taskset missing or fewer than 2 CPUs: servers and generator run unpinned");
        }

        var report = new BenchReport { Started = DateTimeOffset.UtcNow, Machine = await MachineAsync(), CommandLine = commandLine };
        Console.Error.WriteLine($"Herald.Bench: {string.Join(',', o.Scenarios)} × {string.Join(',', o.Targets)}{(o.Quick ? " (quick)" : "")}; " +
            $"{report.Machine.Cpu}, {report.Machine.Processors} CPUs; pinned: {pin}");
        if (o.Targets.Contains("socketio"))
        {
            await EnsureNodeModulesAsync(paths);
        }

        foreach (string scenario in o.Scenarios)
        {
            foreach (string target in o.Targets)
            {
                var result = await RunOneAsync(o, paths, scenario, target, pin);
                report.Results.Add(result);
                string status = result.Skipped ? "skipped" : result.Ok ? "ok" : "FAILED";
                Console.Error.WriteLine($"{scenario}/{target}: {status}{(result.Error is null ? "" : " — " + result.Error)}");
                if (scenario == "cluster" && target == "herald")
                {
                    // The same nodes on the Redis Streams bus, in the same run: row herald-streams.
                    var failure = new ScenarioResult { Scenario = scenario, Target = "herald-streams", Clients = o.ClientsFor(scenario) };
                    var streams = await ClusterRun.RunAsync(o, paths, target, pin, failure, streams: true);
                    report.Results.Add(streams);
                    Console.Error.WriteLine($"{scenario}/herald-streams: {(streams.Skipped ? "skipped" : streams.Ok ? "ok" : "FAILED")}{(streams.Error is null ? "" : " — " + streams.Error)}");
                }
            }
        }

        Console.Out.WriteLine();
        Console.Out.Write(Report.Markdown(report, o));
        if (o.JsonFile is not null)
        {
            await File.WriteAllTextAsync(o.JsonFile, JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport));
            Console.Error.WriteLine($"JSON written to {o.JsonFile}");
        }

        bool failed = report.Results.Exists(r => !r.Ok && !r.Skipped);
        return failed ? 1 : 0;
    }

    private static async Task<ScenarioResult> RunOneAsync(BenchOptions o, BenchPaths paths, string scenario, string target, bool pin)
    {
        var failure = new ScenarioResult { Scenario = scenario, Target = target, Clients = o.ClientsFor(scenario) };
        if (scenario is "slow-consumer" or "soak" && target != "herald")
        {
            // slow-consumer reads Herald's slow-client counter from /bench/counters; soak reads /bench/sessions.
            failure.Skipped = true;
            failure.Error = "herald only";
            return failure;
        }

        if (scenario == "cluster")
        {
            return await ClusterRun.RunAsync(o, paths, target, pin, failure);
        }

        if (scenario == "sse" && target != "herald")
        {
            // The sse scenario measures Herald's EventSource endpoint against Herald's own WebSocket fanout.
            failure.Skipped = true;
            failure.Error = "no SSE endpoint in this target";
            return failure;
        }

        var command = TargetServer.Command(target, paths, out string? unavailable);
        if (command is null || unavailable is not null)
        {
            failure.Skipped = true;
            failure.Error = "not available: " + unavailable;
            return failure;
        }

        Console.Error.WriteLine($"== {scenario} / {target}: starting server");
        string logPath = Path.Combine(paths.Root, "bench", "results", "logs", $"{scenario}-{target}.log");
        TargetServer server;
        try
        {
            server = await TargetServer.StartAsync(target, command.Value.File, command.Value.Args, pin, logPath);
        }
        catch (Exception e)
        {
            failure.Error = e.Message;
            return failure;
        }

        await using (server)
        {
            try
            {
                return await RunGeneratorAsync(o, scenario, target, server, pin) ?? Fail(failure, "generator printed no result");
            }
            catch (Exception e)
            {
                return Fail(failure, e.Message);
            }
        }
    }

    private static ScenarioResult Fail(ScenarioResult r, string error)
    {
        r.Error = error;
        return r;
    }

    internal static async Task<ScenarioResult?> RunGeneratorAsync(BenchOptions o, string scenario, string target, TargetServer server, bool pin)
    {
        string self = Environment.ProcessPath ?? "dotnet";
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            args.Add(typeof(Orchestrator).Assembly.Location);
        }

        args.AddRange(o.ToGeneratorArgs(scenario, TargetServer.ProtocolOf(target), server.Port, server.Pid, target));
        var psi = new ProcessStartInfo { FileName = pin ? "taskset" : self, RedirectStandardOutput = true, UseShellExecute = false };
        if (pin)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("1");
            psi.ArgumentList.Add(self);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the generator");
        var limit = TimeSpan.FromSeconds(o.WarmupFor() + (2 * o.DurationFor(scenario)) + 180 + (o.ClientsFor(scenario) / 200.0));
        using var cts = new CancellationTokenSource(limit);
        ScenarioResult? result = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is string line)
            {
                if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    result = JsonSerializer.Deserialize(line.AsSpan(7), BenchLineJsonContext.Default.ScenarioResult);
                }
                else
                {
                    Console.Error.WriteLine(line);
                }
            }

            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"generator did not finish within {limit.TotalSeconds:F0} s");
        }

        return result;
    }

    private static async Task EnsureNodeModulesAsync(BenchPaths paths)
    {
        string dir = Path.Combine(paths.Root, "bench", "peers", "socketio");
        if ((Directory.Exists(Path.Combine(dir, "node_modules", "socket.io")) && Directory.Exists(Path.Combine(dir, "node_modules", "@socket.io", "redis-adapter")))
            || !OnPath("npm"))
        {
            return;
        }

        Console.Error.WriteLine("installing the socket.io peer (npm ci)…");
        var psi = new ProcessStartInfo("npm", "ci --no-audit --no-fund") { WorkingDirectory = dir, UseShellExecute = false };
        using var npm = Process.Start(psi);
        if (npm is not null)
        {
            await npm.WaitForExitAsync();
        }
    }

    internal static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, name)));

    private static async Task<MachineInfo> MachineAsync()
    {
        var info = new MachineInfo
        {
            Processors = Environment.ProcessorCount,
            Dotnet = RuntimeInformation.FrameworkDescription,
            Os = RuntimeInformation.OSDescription,
        };
        try
        {
            info.Cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        }
        catch (IOException)
        {
        }

        try
        {
            var psi = new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, UseShellExecute = false };
            using var node = Process.Start(psi);
            if (node is not null)
            {
                info.Node = (await node.StandardOutput.ReadToEndAsync()).Trim();
                await node.WaitForExitAsync();
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            info.Node = "not installed";
        }

        return info;
    }
}
