using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Herald.Bench;

/// <summary>
/// One target server process: how to start it, pinned to CPU 0 with taskset, its readiness probe
/// (<c>GET /bench/ready</c>) and a clean stop (SIGTERM, then kill). Output goes to a log file under
/// bench/results/logs so a failing start can be explained.
/// </summary>
internal sealed partial class TargetServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private TargetServer(Process process, StreamWriter log, int port, string logPath)
    {
        _process = process;
        _log = log;
        Port = port;
        LogPath = logPath;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public string LogPath { get; }

    /// <summary>Protocol the generator speaks to a target.</summary>
    public static string ProtocolOf(string target) => target == "signalr" ? "signalr" : "socketio";

    /// <summary>The command that runs a target, or why it cannot run here.</summary>
    public static (string File, List<string> Args)? Command(string target, BenchPaths paths, out string? unavailable)
    {
        unavailable = null;
        (string Dir, string Name)? app = target switch
        {
            "herald" => ("bench/Herald.Bench.Server", "Herald.Bench.Server"),
            "signalr" => ("bench/peers/signalr", "Herald.Bench.Peers.SignalR"),
            "ceiling" => ("bench/peers/ceiling", "Herald.Bench.Peers.Ceiling"),
            _ => null,
        };
        if (app is { } a)
        {
            string dll = Path.Combine(paths.Root, a.Dir, "bin", paths.Configuration, "net10.0", a.Name + ".dll");
            if (!File.Exists(dll))
            {
                unavailable = $"{dll} is not built";
            }

            return ("dotnet", [dll]);
        }

        switch (target)
        {
            case "socketio":
                string dir = Path.Combine(paths.Root, "bench", "peers", "socketio");
                if (!Directory.Exists(Path.Combine(dir, "node_modules", "socket.io")))
                {
                    unavailable = $"{dir}/node_modules missing (npm ci failed?)";
                }

                return ("node", ["--expose-gc", Path.Combine(dir, "server.js")]);
            default:
                unavailable = "unknown target";
                return null;
        }
    }

    /// <summary>Whether the .NET targets run with tiered PGO (the runtime's default); set from <c>--tiered-pgo</c>.</summary>
    public static bool TieredPgo { get; set; }

    public static async Task<TargetServer> StartAsync(string target, string file, List<string> args, bool pin, string logPath)
    {
        int port = FreePort();
        var psi = new ProcessStartInfo
        {
            FileName = pin ? "taskset" : file,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (pin)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("0");
            psi.ArgumentList.Add(file);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        psi.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["NODE_ENV"] = "production";
        if (!TieredPgo)
        {
            // Every .NET target alike (node ignores it): see BenchOptions.TieredPgo.
            psi.Environment["DOTNET_TieredPGO"] = "0";
        }
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new TargetServer(process, log, port, logPath);
        try
        {
            await server.WaitReadyAsync(target);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15); // SIGTERM: let the server shut down cleanly
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private async Task WaitReadyAsync(string target)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        string url = $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/bench/ready";
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{target} exited with code {_process.ExitCode} before it was ready; see {LogPath}");
            }

            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{target} not ready after 60 s; see {LogPath}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

/// <summary>Where the repository and the build outputs are, found from the tool's own location.</summary>
internal sealed class BenchPaths
{
    private BenchPaths(string root, string configuration)
    {
        Root = root;
        Configuration = configuration;
    }

    public string Root { get; }

    /// <summary>Release or Debug: the tool's own (its target servers are built with it).</summary>
    public string Configuration { get; }

    public static BenchPaths Find()
    {
        string baseDir = AppContext.BaseDirectory.TrimEnd('/');
        string configuration = Path.GetFileName(Path.GetDirectoryName(baseDir)) ?? "Release";
        var dir = new DirectoryInfo(baseDir);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
        {
            dir = dir.Parent;
        }

        return new BenchPaths(dir?.FullName ?? Directory.GetCurrentDirectory(), configuration);
    }
}
