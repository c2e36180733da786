using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Herald.Bench.Generator;

/// <summary>What the generator reads about the server process (same machine) and about itself.</summary>
internal static class ProcessStats
{
    private const double ClockTicksPerSecond = 100; // sysconf(_SC_CLK_TCK) on Linux

    /// <summary>VmRSS of a process in bytes, from /proc/&lt;pid&gt;/status; 0 when unavailable.</summary>
    public static long ReadRss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>User + system CPU time of a process, from /proc/&lt;pid&gt;/stat (fields 14 and 15).</summary>
    public static TimeSpan ReadCpu(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Asks the server for a full GC and its managed heap (<c>GET /bench/gc</c>), then reads its RSS,
    /// so that both figures are taken after the collection.
    /// </summary>
    public static async Task<(long Heap, long Rss)> ReadServerMemoryAsync(int port, int pid)
    {
        long heap = 0;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            string json = await http.GetStringAsync($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/bench/gc");
            using var doc = JsonDocument.Parse(json);
            heap = doc.RootElement.GetProperty("heap").GetInt64();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
        }

        return (heap, ReadRss(pid));
    }
}

/// <summary>CPU used by the server and by the generator between Start and Stop, as % of one core.</summary>
internal sealed class CpuMeter(int serverPid)
{
    private TimeSpan _server;
    private TimeSpan _self;
    private long _start;

    public double ServerPercent { get; private set; }

    public double SelfPercent { get; private set; }

    public void Start()
    {
        _server = ProcessStats.ReadCpu(serverPid);
        _self = Environment.CpuUsage.TotalTime;
        _start = Stopwatch.GetTimestamp();
    }

    public void Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        if (wall <= 0)
        {
            return;
        }

        ServerPercent = (ProcessStats.ReadCpu(serverPid) - _server).TotalSeconds / wall * 100;
        SelfPercent = (Environment.CpuUsage.TotalTime - _self).TotalSeconds / wall * 100;
    }
}
