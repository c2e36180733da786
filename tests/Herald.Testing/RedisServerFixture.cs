using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Testing;

/// <summary>
/// A real <c>redis-server</c> for tests, on a free port of 127.0.0.1, with persistence off. Start it with
/// <see cref="StartAsync"/>; <see cref="StopAsync"/> kills it and <see cref="RestartAsync"/> brings it back
/// on the same port (to test reconnection). If <c>redis-server</c> is not on PATH this throws: Redis tests
/// must fail loudly, never skip (CI installs the Debian package).
/// </summary>
public sealed class RedisServerFixture : IAsyncDisposable
{
    private readonly string[] _extraArguments;
    private readonly StringBuilder _output = new();
    private readonly string? _configFile;
    private readonly string _readyMarker;
    private Process? _process;

    private RedisServerFixture(int port, string[] extraArguments, string? configFile = null, string readyMarker = "Ready to accept connections")
    {
        Port = port;
        _extraArguments = extraArguments;
        _configFile = configFile;
        _readyMarker = readyMarker;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, a connection string for Herald.Redis.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>True while the server process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server on a free port; <paramref name="extraArguments"/> go to its command line (<c>--requirepass x</c>).</summary>
    public static async Task<RedisServerFixture> StartAsync(params string[] extraArguments)
    {
        var server = new RedisServerFixture(GetFreePort(), extraArguments);
        await server.LaunchAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts a server on a given port (one a test configured before Redis was up).</summary>
    public static async Task<RedisServerFixture> StartOnPortAsync(int port, params string[] extraArguments)
    {
        var server = new RedisServerFixture(port, extraArguments);
        await server.LaunchAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// Starts a Sentinel (<c>redis-server sentinel.conf --sentinel</c>) on a free port monitoring the master
    /// <paramref name="masterName"/> at 127.0.0.1:<paramref name="masterPort"/> with quorum 1, which it declares down
    /// after <paramref name="downAfterMilliseconds"/>.
    /// </summary>
    public static async Task<RedisServerFixture> StartSentinelAsync(string masterName, int masterPort, int downAfterMilliseconds = 1000)
    {
        var port = GetFreePort();
        var directory = Directory.CreateTempSubdirectory("herald-sentinel-").FullName;
        var config = Path.Combine(directory, "sentinel.conf");
        await File.WriteAllTextAsync(config, string.Join('\n',
            $"sentinel monitor {masterName} 127.0.0.1 {masterPort} 1",
            $"sentinel down-after-milliseconds {masterName} {downAfterMilliseconds}",
            $"sentinel failover-timeout {masterName} 10000",
            "")).ConfigureAwait(false);
        var server = new RedisServerFixture(port, ["--sentinel"], config, "+monitor master");
        await server.LaunchAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>A free TCP port on 127.0.0.1 (for a TLS port, a cluster bus, an endpoint nobody listens on).</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The full path of <c>redis-server</c>, or an exception saying how to install it.</summary>
    public static string FindRedisServer()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "redis-server is not on PATH. The Redis tests run against a real server: install it (Debian: apt-get install redis-server) and run again.");
    }

    /// <summary>Kills the server and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync() => IsRunning ? throw new InvalidOperationException("redis-server is still running.") : LaunchAsync();

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo(FindRedisServer())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_configFile is not null)
        {
            info.ArgumentList.Add(_configFile);
        }

        foreach (var argument in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", .. _extraArguments])
        {
            info.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            if (e.Data.Contains(_readyMarker, StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(e.Data);
                }
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server exited with code {SafeExitCode(process)} before it was ready:\n{Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            await PingAsync().ConfigureAwait(false);
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static int SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Sends <c>PING</c> on a fresh connection and checks the <c>+PONG</c>.</summary>
    public async Task PingAsync()
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token).ConfigureAwait(false);
        var buffer = new byte[64];
        var read = 0;
        while (read < 7)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        if (!reply.StartsWith("+PONG", StringComparison.Ordinal) && !reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-server on port {Port} answered '{reply.Trim()}' to PING.");
        }
    }

    /// <summary>Kills the server.</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
