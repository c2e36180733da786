namespace Herald.Bench.Generator;

/// <summary>
/// sse: the fanout scenario with EventSource receivers. N clients open <c>GET /bench/sse?topic=bench</c>
/// (Herald's Server-Sent Events endpoint); one Socket.IO publisher, the same as fanout's, emits
/// <c>pub-sse(room, payload)</c> and the server pushes it to the SSE topic. Same window, payloads, latency
/// and per-client order checks as fanout, so the two figures of one run compare the delivery paths.
/// </summary>
internal static class SseScenario
{
    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var o = ctx.Options;
        int n = o.ClientsFor("sse");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (clients, failed, error) = await ctx.ConnectManyAsync(n,
            (source, i, ct) => SseBenchClient.ConnectAsync(ctx.Server, source, "/bench/sse?topic=bench", i, ct));
        result.Connected = clients.Count;
        if (failed > 0)
        {
            result.Error = $"{failed} of {n} SSE connections failed; first: {error}";
        }

        ctx.Log($"{clients.Count} EventSource clients connected in {sw.Elapsed.TotalSeconds:F1} s");
        var (pubs, pubFailed, pubError) = await ctx.ConnectAsync(1, n);
        if (pubFailed > 0 || pubs[0] is not SocketIOBenchClient publisher)
        {
            throw new IOException("publisher could not connect (the sse scenario needs a Socket.IO target): " + pubError);
        }

        var sink = new FanoutSink(clients.Count, o.Window);
        foreach (var c in clients)
        {
            c.Sink = sink;
        }

        await FanoutScenario.MeasureAsync(ctx, result, "sse", sink, clients, n, payload => publisher.PublishSseAsync("bench", payload));
    }
}
