using System.Diagnostics;

namespace Herald.Bench.Generator;

/// <summary>
/// connections: opens N idle connections (Socket.IO CONNECT acknowledged / SignalR handshake done),
/// reports the connect rate and the server's memory per connection (RSS delta / N, and the managed
/// heap delta / N from /bench/gc, both after a full GC on the server), holds them idle for the
/// duration and checks that none was dropped.
/// </summary>
internal static class ConnectionsScenario
{
    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var o = ctx.Options;
        int n = o.ClientsFor("connections");
        long limit = OpenFileLimit();
        if (limit > 0 && n + 256 > limit)
        {
            throw new InvalidOperationException(
                $"{n} connections need more file descriptors than the limit ({limit}): raise `ulimit -n` (hard limit) for the tool and the servers");
        }

        var before = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
        var cpu = new CpuMeter(o.ServerPid);
        int connected = 0;
        int lastConnected = 0;
        var sw = Stopwatch.StartNew();
        cpu.Start();
        List<BenchClient> clients;
        int failed;
        string? error;
        await using (ctx.Progress(() =>
        {
            int c = Volatile.Read(ref connected);
            string line = $"connecting: {c:N0}/{n:N0} ({c - lastConnected:N0}/s)";
            lastConnected = c;
            return line;
        }))
        {
            (clients, failed, error) = await ctx.ConnectAsync(n, 0, c => Volatile.Write(ref connected, c));
        }

        double seconds = sw.Elapsed.TotalSeconds;
        cpu.Stop();
        result.Connected = clients.Count;
        result.ConnectsPerSecond = clients.Count / seconds;
        result.ServerCpuPercent = cpu.ServerPercent;
        result.GeneratorCpuPercent = cpu.SelfPercent;
        if (failed > 0)
        {
            result.Error = $"{failed} of {n} connections failed; first: {error}";
        }

        // Let lazily-freed handshake garbage and socket buffers settle before the after-GC reading.
        await Task.Delay(TimeSpan.FromSeconds(o.Quick ? 0.3 : 1));
        var after = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
        if (clients.Count > 0)
        {
            result.RssPerConnectionBytes = (double)(after.Rss - before.Rss) / clients.Count;
            result.HeapPerConnectionBytes = (double)(after.Heap - before.Heap) / clients.Count;
        }

        result.ServerRssBytes = after.Rss;
        ctx.Log($"{clients.Count:N0} connected in {seconds:F1} s; RSS {result.RssPerConnectionBytes / 1024:F1} KB/conn, heap {result.HeapPerConnectionBytes / 1024:F1} KB/conn; idle {o.DurationFor("connections")} s");
        sw.Restart();
        await Task.Delay(TimeSpan.FromSeconds(o.DurationFor("connections")));
        result.MeasuredSeconds = sw.Elapsed.TotalSeconds;
        int dropped = 0;
        string? reason = null;
        foreach (var c in clients)
        {
            if (c.Closed)
            {
                dropped++;
                reason ??= c.CloseReason;
            }
        }

        result.Missing = (n - clients.Count) + dropped;
        if (dropped > 0)
        {
            result.Error ??= $"{dropped} idle connections dropped; first: {reason}";
        }

        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.CloseAsync());
    }

    private static long OpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.TryParse(parts[3], System.Globalization.CultureInfo.InvariantCulture, out long soft) ? soft : 0;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
