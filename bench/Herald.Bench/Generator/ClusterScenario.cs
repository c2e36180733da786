using System.Diagnostics;
using System.Net;

namespace Herald.Bench.Generator;

/// <summary>
/// cluster: the fanout scenario across two nodes sharing a Redis. N clients join room "bench", client i on node
/// (i mod 2) + 1; the publisher is on node 1 and emits <c>pub("bench", payload)</c>, so node 1 delivers to its half
/// and the adapter carries the broadcast through Redis to node 2's half. Same window, payloads, latency and
/// per-client order checks as fanout: a message is outstanding until both halves got it.
/// </summary>
internal static class ClusterScenario
{
    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var o = ctx.Options;
        if (o.Port2 <= 0)
        {
            throw new ArgumentException("the cluster scenario needs --port2 (the second node)");
        }

        int n = o.ClientsFor("cluster");
        var nodes = new[] { ctx.Server, new IPEndPoint(IPAddress.Loopback, o.Port2) };
        var sw = Stopwatch.StartNew();
        var (clients, failed, error) = await ctx.ConnectManyAsync(n,
            (source, i, ct) => BenchClient.ConnectAsync(ctx.SignalR, nodes[i % 2], source, i, ct));
        result.Connected = clients.Count;
        if (failed > 0)
        {
            result.Error = $"{failed} of {n} connections failed; first: {error}";
        }

        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency },
            async (c, _) => await c.JoinAsync("bench"));
        ctx.Log($"{clients.Count} clients connected to 2 nodes and joined in {sw.Elapsed.TotalSeconds:F1} s");

        var (pubs, pubFailed, pubError) = await ctx.ConnectAsync(1, n);
        if (pubFailed > 0)
        {
            throw new IOException("publisher could not connect to node 1: " + pubError);
        }

        var publisher = pubs[0];
        var sink = new FanoutSink(clients.Count, o.Window);
        foreach (var c in clients)
        {
            c.Sink = sink;
        }

        await FanoutScenario.MeasureAsync(ctx, result, "cluster", sink, clients, n, payload => publisher.PublishAsync("bench", payload));
    }
}
