using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Herald.Bench;

/// <summary>
/// The cluster scenario's orchestration: a redis-server on a free port and two nodes of the target sharing it
/// (herald: Redis bus + cluster adapter; socketio: @socket.io/redis-adapter), all pinned to CPU 0 like every
/// server; then the generator (CPU 1) with both ports. Only herald and socketio have a cluster mode; herald runs
/// twice, on the pub/sub bus (row <c>herald</c>) and on the Redis Streams bus (row <c>herald-streams</c>).
/// </summary>
internal static class ClusterRun
{
    public static async Task<ScenarioResult> RunAsync(BenchOptions o, BenchPaths paths, string target, bool pin, ScenarioResult failure, bool streams = false)
    {
        if (target is not ("herald" or "socketio"))
        {
            failure.Skipped = true;
            failure.Error = "no Redis cluster mode in this target (cluster compares herald and socketio)";
            return failure;
        }

        var command = TargetServer.Command(target, paths, out string? unavailable);
        if (command is null || unavailable is not null)
        {
            failure.Skipped = true;
            failure.Error = "not available: " + unavailable;
            return failure;
        }

        if (!Orchestrator.OnPath("redis-server"))
        {
            failure.Skipped = true;
            failure.Error = "not available: redis-server is not installed";
            return failure;
        }

        string row = streams ? target + "-streams" : target;
        Console.Error.WriteLine($"== cluster / {row}: starting redis-server and 2 nodes");
        string logs = Path.Combine(paths.Root, "bench", "results", "logs");
        var servers = new List<IAsyncDisposable>();
        try
        {
            var redis = await RedisProcess.StartAsync(pin, Path.Combine(logs, $"cluster-{row}-redis.log"));
            servers.Add(redis);
            var nodes = new TargetServer[2];
            for (int i = 0; i < 2; i++)
            {
                var args = new List<string>(command.Value.Args);
                if (target == "herald")
                {
                    args.AddRange(["--redis", $"127.0.0.1:{redis.Port.ToString(CultureInfo.InvariantCulture)}", "--node", $"bench-node-{i + 1}"]);
                    if (streams)
                    {
                        args.AddRange(["--bus", "streams"]);
                    }
                }
                else
                {
                    args.AddRange(["--redis", $"redis://127.0.0.1:{redis.Port.ToString(CultureInfo.InvariantCulture)}"]);
                }

                nodes[i] = await TargetServer.StartAsync(target, command.Value.File, args, pin, Path.Combine(logs, $"cluster-{row}-node{i + 1}.log"));
                servers.Add(nodes[i]);
            }

            o.Port2 = nodes[1].Port;
            try
            {
                var result = await Orchestrator.RunGeneratorAsync(o, "cluster", target, nodes[0], pin) ?? Fail(failure, "generator printed no result");
                result.Target = row;
                return result;
            }
            finally
            {
                o.Port2 = 0;
            }
        }
        catch (Exception e)
        {
            return Fail(failure, e.Message);
        }
        finally
        {
            for (int i = servers.Count - 1; i >= 0; i--)
            {
                await servers[i].DisposeAsync();
            }
        }
    }

    private static ScenarioResult Fail(ScenarioResult r, string error)
    {
        r.Error = error;
        return r;
    }

    /// <summary>A throwaway redis-server: no persistence, loopback only, stopped with the scenario.</summary>
    private sealed class RedisProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private RedisProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<RedisProcess> StartAsync(bool pin, string logPath)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            var psi = new ProcessStartInfo { FileName = pin ? "taskset" : "redis-server", UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (pin)
            {
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("0");
                psi.ArgumentList.Add("redis-server");
            }

            foreach (string a in (string[])["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"])
            {
                psi.ArgumentList.Add(a);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            var log = new StreamWriter(logPath) { AutoFlush = true };
            var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start redis-server");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
            process.Exited += (_, _) => { lock (log) { log.Dispose(); } };
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var redis = new RedisProcess(process, port);
            try
            {
                await redis.WaitPongAsync();
            }
            catch
            {
                await redis.DisposeAsync();
                throw;
            }

            return redis;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private async Task WaitPongAsync()
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode}");
                }

                try
                {
                    using var client = new TcpClient();
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await client.ConnectAsync(IPAddress.Loopback, Port, cts.Token);
                    var stream = client.GetStream();
                    await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
                    var buffer = new byte[16];
                    int read = await stream.ReadAsync(buffer, cts.Token);
                    if (read >= 5 && buffer.AsSpan(0, 5).SequenceEqual("+PONG"u8))
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                {
                }

                await Task.Delay(50);
            }

            throw new TimeoutException("redis-server did not answer PING within 20 s");
        }
    }
}
