using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Herald.Bench.Generator;

/// <summary>
/// slow-consumer: the fanout scenario (N clients in room "bench", one publisher, window W) run twice on the same
/// server: first as is (the baseline), then with one more client in the room that stops reading, then as is again (a 4 KB receive
/// window and no reads after its join). The healthy clients' deliveries/s of the second phase over the first is the
/// ratio (goal ≥ 0.95); the publisher keeps going until the server disconnected the slow client (its
/// <c>herald.engineio.slow_client_disconnects</c> counter, read from <c>/bench/counters</c>, and the slow client's
/// socket reaching its end). The server's RSS is sampled throughout: its peak over the baseline's peak is what the
/// slow client cost, to compare with the configured bound (MaxOutboundBytes, 4 MiB by default, plus Kestrel's and the
/// kernel's socket buffers). Herald target only (the counters endpoint is Herald's). Messages are at least
/// <see cref="MinSize"/> bytes: at 100 bytes and 500 clients' rate (~200 messages/s per client) the kernel's send
/// buffer alone (autotuned up to tcp_wmem's 4 MiB) absorbs minutes of backlog before the server's queue even grows,
/// and the slow client would be cut by the ping timeout (45 s) instead of the bound.
/// </summary>
internal static class SlowConsumerScenario
{
    public const int MinSize = 1000;

    private static readonly TimeSpan MaxWaitForDisconnect = TimeSpan.FromSeconds(90);

    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var o = ctx.Options;
        int n = o.ClientsFor("slow-consumer");
        var clients = await ctx.ConnectAndJoinAsync(n, static _ => "bench", result);
        var (pubs, failed, error) = await ctx.ConnectAsync(1, n);
        if (failed > 0)
        {
            throw new IOException("publisher could not connect: " + error);
        }

        var publisher = pubs[0];
        var sink = new FanoutSink(clients.Count, o.Window);
        foreach (var c in clients)
        {
            c.Sink = sink;
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{o.Port}"), Timeout = TimeSpan.FromSeconds(10) };
        var publishing = new Publishing(ctx, sink, publisher);
        var duration = TimeSpan.FromSeconds(o.DurationFor("slow-consumer"));

        // A warm-up as long as a phase (at least 2 s even in --quick): the baseline must not pay for the tiered JIT
        // that the later phases skip (with 2 s, the baseline after the cut still came out ~50% above the one before).
        await publishing.RunAsync(TimeSpan.FromSeconds(Math.Max(Math.Max(2, o.WarmupFor()), duration.TotalSeconds)), null);
        var (baseline, baselineRss) = await publishing.RunAsync(duration, null);
        result.BaselineDeliveriesPerSecond = baseline;
        var (baselineHeap, _) = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
        ctx.Log($"baseline: {baseline:N0} deliveries/s, server RSS peak {baselineRss / 1048576.0:F1} MB, heap after a full GC {baselineHeap / 1048576.0:F1} MB");

        long disconnectsBefore = await ReadSlowDisconnectsAsync(http);
        using var slow = await ConnectSlowClientAsync(ctx.Server);
        var slowJoined = Stopwatch.StartNew();
        ctx.Log("slow client joined room \"bench\" and stopped reading");

        long disconnects = disconnectsBefore;
        var (withSlow, slowRss) = await publishing.RunAsync(duration, null);
        result.DeliveriesPerSecond = withSlow;
        long peakRss = slowRss;
        long peakHeap = -1;
        disconnects = await ReadSlowDisconnectsAsync(http);

        // Go on publishing until the server has cut the slow client off (bounded). Meanwhile the server's live heap
        // (after a full GC, so it is what the slow client's backlog holds, not garbage) is sampled: the throughput
        // figure is already taken, so these blocking collections do not distort it.
        while (disconnects == disconnectsBefore && slowJoined.Elapsed < MaxWaitForDisconnect)
        {
            var (_, rss) = await publishing.RunAsync(TimeSpan.FromSeconds(0.5), null);
            peakRss = Math.Max(peakRss, rss);
            var (heap, _) = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
            disconnects = await ReadSlowDisconnectsAsync(http);
            if (disconnects == disconnectsBefore)
            {
                peakHeap = Math.Max(peakHeap, heap);
            }
        }

        result.ServerHeapGrowthBytes = peakHeap < 0 ? -1 : Math.Max(0, peakHeap - baselineHeap);

        bool serverCut = disconnects > disconnectsBefore;
        double cutAfter = slowJoined.Elapsed.TotalSeconds;
        bool socketEnded = await SocketEndsAsync(slow, TimeSpan.FromSeconds(10));

        // A second baseline after the cut: the reference is the mean of the two that bracket the slow phase in time,
        // so a machine that got busier or quieter meanwhile (shared CI runners) biases the ratio less.
        var (after, _) = await publishing.RunAsync(duration, null);
        result.BaselineDeliveriesPerSecond = (baseline + after) / 2;
        ctx.Log($"baseline after the cut: {after:N0} deliveries/s");
        result.SlowClientDisconnectSeconds = serverCut && socketEnded ? cutAfter : -1;
        result.ServerRssBytes = peakRss;
        result.ServerRssGrowthBytes = Math.Max(0, peakRss - baselineRss);
        result.MessagesSent = publishing.Sent;

        // Drain the window, then check every healthy client got every message in order.
        var drainUntil = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (sink.Completed < publishing.Sent && Stopwatch.GetTimestamp() < drainUntil)
        {
            await Task.Delay(20);
        }

        long missing = 0;
        long order = 0;
        foreach (var c in clients)
        {
            missing += Math.Max(0, publishing.Sent - c.Received);
            order += c.OrderErrors + Math.Max(0, c.Received - publishing.Sent);
        }

        result.Deliveries = sink.Deliveries;
        result.ExpectedDeliveries = publishing.Sent * clients.Count;
        result.Missing = missing + ((long)(n - clients.Count) * publishing.Sent);
        result.OrderErrors = order + sink.BadPayloads;
        LatencyFields.Fill(result, sink.Histogram);
        if (!serverCut || !socketEnded)
        {
            result.Error = $"the slow client was not disconnected within {MaxWaitForDisconnect.TotalSeconds:F0} s (server counter: {serverCut}, socket ended: {socketEnded})";
        }

        ctx.Log($"with a slow client: {withSlow:N0} deliveries/s = {withSlow / Math.Max(1, result.BaselineDeliveriesPerSecond):F3} × the mean baseline; slow client cut after {cutAfter:F1} s; " +
            $"server RSS peak {peakRss / 1048576.0:F1} MB (+{result.ServerRssGrowthBytes / 1048576.0:F1} MB over the baseline); " +
            $"live heap while the slow client was backlogged: +{result.ServerHeapGrowthBytes / 1048576.0:F2} MB over the baseline (bound: MaxOutboundBytes 4 MiB); {result.Missing} missing");
    }

    private static async Task<long> ReadSlowDisconnectsAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/bench/counters"));
        return doc.RootElement.GetProperty("slowClientDisconnects").GetInt64();
    }

    /// <summary>
    /// A Socket.IO client on a raw socket with a 4 KB receive buffer: handshake, connect, join "bench", then no more
    /// reads (the server's frames are not masked, so the text of each step shows in the raw bytes).
    /// </summary>
    private static async Task<Socket> ConnectSlowClientAsync(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await socket.ConnectAsync(server, timeout.Token);
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"), SocketFlags.None, timeout.Token);
            var seen = new List<byte>();
            await ReadUntilAsync(socket, seen, "0{\"sid\""u8.ToArray(), timeout.Token);
            await socket.SendAsync(MaskedText("40"), SocketFlags.None, timeout.Token);
            await ReadUntilAsync(socket, seen, "40{\"sid\""u8.ToArray(), timeout.Token);
            await socket.SendAsync(MaskedText("421[\"join\",\"bench\"]"), SocketFlags.None, timeout.Token);
            await ReadUntilAsync(socket, seen, "431[]"u8.ToArray(), timeout.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task ReadUntilAsync(Socket socket, List<byte> seen, byte[] marker, CancellationToken ct)
    {
        var buffer = new byte[4096];
        while (seen.Count < marker.Length || CollectionsMarshalIndexOf(seen, marker) < 0)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                throw new IOException("the slow client's connection closed during its handshake");
            }

            seen.AddRange(buffer.AsSpan(0, read));
        }

        seen.Clear();
    }

    private static int CollectionsMarshalIndexOf(List<byte> seen, byte[] marker)
        => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen).IndexOf(marker);

    /// <summary>A client text frame with a zero masking key (the bytes stay as they are).</summary>
    private static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        payload.CopyTo(frame.AsSpan(6));
        return frame;
    }

    /// <summary>Reads what the server had sent until the end of the stream (FIN or reset): true when it ended in time.</summary>
    private static async Task<bool> SocketEndsAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The fanout publisher with its window, run in phases; each phase reports deliveries/s and the peak server RSS.</summary>
    private sealed class Publishing(GeneratorContext ctx, FanoutSink sink, BenchClient publisher)
    {
        private readonly int _size = Math.Max(ctx.Options.Size, MinSize);
        private readonly byte[] _buffer = new byte[Math.Max(Math.Max(ctx.Options.Size, MinSize), 64)];

        public long Sent { get; private set; }

        public async Task<(double DeliveriesPerSecond, long PeakRss)> RunAsync(TimeSpan duration, Func<bool>? stop)
        {
            long deliveriesAtStart = sink.Deliveries;
            long start = Stopwatch.GetTimestamp();
            long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long nextSample = start;
            long peakRss = 0;
            while (stop?.Invoke() != true)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= nextSample)
                {
                    peakRss = Math.Max(peakRss, ProcessStats.ReadRss(ctx.Options.ServerPid));
                    nextSample = now + (Stopwatch.Frequency / 5);
                }

                if (now >= end)
                {
                    break;
                }

                var wait = TimeSpan.FromSeconds(Math.Min((double)(end - now), (double)(nextSample - now)) / Stopwatch.Frequency);
                if (!await sink.Window.WaitAsync(wait))
                {
                    continue;
                }

                sink.Begin(Sent);
                int len = Payload.Write(_buffer, Sent, -1, Stopwatch.GetTimestamp(), _size);
                await publisher.PublishAsync("bench", _buffer.AsSpan(0, len));
                Sent++;
            }

            double seconds = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
            return ((sink.Deliveries - deliveriesAtStart) / seconds, peakRss);
        }
    }
}
