using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Herald.Testing;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// The standalone hub (src/Herald.Server, the build of this test's configuration) in a child process on 127.0.0.1: its
/// channel endpoint at <c>/herald/channel</c> (<c>Herald:ChannelKey</c>), the publish API (<c>Herald:ApiKeys</c>) and
/// Socket.IO. The project references Herald.Server without its assembly, so building the tests builds the hub first.
/// Disposing kills the process (its output is in failure messages).
/// </summary>
internal sealed partial class HubProcess : IAsyncDisposable
{
    public const string ChannelKey = "hub-test-channel-key";
    public const string ApiKey = "hub-test-api-key-0123";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HubProcess(Process process) => _process = process;

    public int Port { get; private set; }

    public Uri HttpBase => new($"http://127.0.0.1:{Port}");

    public Uri ChannelUri => new($"ws://127.0.0.1:{Port}/herald/channel");

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

    /// <summary>Starts the hub as node <paramref name="nodeName"/> on <paramref name="port"/> (0: a free one) and waits until it listens.</summary>
    public static async Task<HubProcess> StartAsync(string nodeName, int port = 0)
    {
        var (dll, projectDir) = LocateHub();
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = projectDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            dll, "--urls", $"http://127.0.0.1:{port}",
            $"--Herald:NodeName={nodeName}", $"--Herald:ChannelKey={ChannelKey}", $"--Herald:ApiKeys:0={ApiKey}",
            "--Herald:Demo:Enabled=false", "--Herald:Admin:Enabled=false",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var hub = new HubProcess(process);
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (hub._output)
            {
                hub._output.AppendLine(line);
            }

            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The hub exited before listening:\n" + hub.Output));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            hub.Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await hub.DisposeAsync();
            throw new TimeoutException("The hub did not listen within 30 s:\n" + hub.Output);
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }

        return hub;
    }

    /// <summary>SIGKILL: the hub gets no chance to close its connections (the kernel resets them).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().DefaultTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // never started
        }

        _process.Dispose();
    }

    /// <summary>src/Herald.Server's build of this test assembly's configuration (Debug or Release), and its project folder.</summary>
    private static (string Dll, string ProjectDir) LocateHub()
    {
        var configuration = typeof(HubProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("Herald.slnx not found above " + AppContext.BaseDirectory);
        }

        var projectDir = Path.Combine(dir.FullName, "src", "Herald.Server");
        var dll = Path.Combine(projectDir, "bin", configuration, "net10.0", "Herald.Server.dll");
        return File.Exists(dll)
            ? (dll, projectDir)
            : throw new InvalidOperationException($"{dll} is missing: build tests/Herald.PeerLinks.Tests (it builds the hub) in {configuration}.");
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
