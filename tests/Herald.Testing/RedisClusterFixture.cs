using System.Diagnostics;
using System.Globalization;

namespace Herald.Testing;

/// <summary>
/// A real Redis Cluster of three masters on free ports of 127.0.0.1 (<c>redis-server --cluster-enabled yes</c> ×3, then
/// <c>redis-cli --cluster create ... --cluster-yes</c>), ready once every node reports <c>cluster_state:ok</c>.
/// </summary>
public sealed class RedisClusterFixture : IAsyncDisposable
{
    private readonly List<RedisServerFixture> _nodes = [];

    private RedisClusterFixture()
    {
    }

    /// <summary>The three masters.</summary>
    public IReadOnlyList<RedisServerFixture> Nodes => _nodes;

    /// <summary>Starts the nodes, creates the cluster and waits until it is ready.</summary>
    public static async Task<RedisClusterFixture> StartAsync()
    {
        var cluster = new RedisClusterFixture();
        try
        {
            var directory = Directory.CreateTempSubdirectory("herald-cluster-").FullName;
            for (var i = 0; i < 3; i++)
            {
                cluster._nodes.Add(await RedisServerFixture.StartAsync(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", Path.Combine(directory, $"nodes-{i}.conf"),
                    "--cluster-node-timeout", "2000").ConfigureAwait(false));
            }

            var create = new List<string> { "--cluster", "create" };
            create.AddRange(cluster._nodes.Select(n => n.ConnectionString));
            create.Add("--cluster-yes");
            var (code, output) = await RedisCliAsync(create).ConfigureAwait(false);
            if (code != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed ({code}):\n{output}");
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            foreach (var node in cluster._nodes)
            {
                while (true)
                {
                    var (_, info) = await RedisCliAsync(["-p", node.Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"]).ConfigureAwait(false);
                    if (info.Contains("cluster_state:ok", StringComparison.Ordinal))
                    {
                        break;
                    }

                    // Polling a condition with a deadline: the cluster has no event to wait on.
                    await Task.Delay(50, timeout.Token).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    /// <summary>Runs <c>redis-cli</c> with the arguments; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RedisCliAsync(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    /// <summary>Kills every node.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }
}
