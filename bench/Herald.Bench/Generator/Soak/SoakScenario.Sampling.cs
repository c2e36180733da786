using System.Diagnostics;
using System.Text.Json;

namespace Herald.Bench.Generator.Soak;

internal static partial class SoakScenario
{
    private sealed partial class SoakRun
    {
        /// <summary>
        /// Every few seconds: the server's managed heap after a forced full GC and its RSS (<c>/bench/gc</c>, then
        /// /proc), its sessions, sockets and SSE connections (<c>/bench/sessions</c>), and the throughput since the last
        /// sample. The collection blocks the server for a moment: that is fine, no speed is asserted here.
        /// </summary>
        private async Task SampleLoopAsync(SoakSummary summary, Stopwatch clock, CancellationToken ct)
        {
            var interval = TimeSpan.FromSeconds(summary.SampleSeconds);
            double lastT = 0;
            long lastConnects = Interlocked.Read(ref _counters.Connects);
            long lastDisconnects = 0;
            long lastDeliveries = 0;
            long lastAcks = 0;
            while (true)
            {
                try
                {
                    await Task.Delay(interval, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                var (heap, rss) = await ProcessStats.ReadServerMemoryAsync(_ctx.Options.Port, _ctx.Options.ServerPid);
                var (engine, sockets, sse) = await ReadSessionsAsync();
                double t = clock.Elapsed.TotalSeconds;
                double dt = Math.Max(1e-3, t - lastT);
                long connects = Interlocked.Read(ref _counters.Connects);
                long disconnects = Interlocked.Read(ref _counters.Disconnects);
                long deliveries = Interlocked.Read(ref _counters.Deliveries) + Interlocked.Read(ref _counters.SseDeliveries);
                long acks = Interlocked.Read(ref _counters.Echoes) + Interlocked.Read(ref _counters.Binaries) + Interlocked.Read(ref _counters.Joins) + Interlocked.Read(ref _counters.Leaves);
                int live = 1;
                int sseLive = 0;
                foreach (var c in _slots)
                {
                    if (c is null)
                    {
                        continue;
                    }

                    if (c.Kind == SoakKind.Sse)
                    {
                        sseLive++;
                    }
                    else
                    {
                        live++;
                    }
                }

                summary.Samples.Add(new SoakSample
                {
                    Seconds = t,
                    HeapBytes = heap,
                    RssBytes = rss,
                    EngineSessions = engine,
                    Sockets = sockets,
                    Sse = sse,
                    ClientsLive = live,
                    SseLive = sseLive,
                    ConnectsPerSecond = (connects - lastConnects) / dt,
                    DisconnectsPerSecond = (disconnects - lastDisconnects) / dt,
                    DeliveriesPerSecond = (deliveries - lastDeliveries) / dt,
                    AcksPerSecond = (acks - lastAcks) / dt,
                });
                _ctx.Log($"sample t={t:F0} s: heap {heap / 1048576.0:F1} MB, RSS {rss / 1048576.0:F1} MB, sessions {engine} (live {live}), sockets {sockets}, SSE {sse} (live {sseLive})");
                (lastT, lastConnects, lastDisconnects, lastDeliveries, lastAcks) = (t, connects, disconnects, deliveries, acks);
            }
        }

        private async Task<(int Engine, int Sockets, int Sse)> ReadSessionsAsync()
        {
            try
            {
                using var doc = JsonDocument.Parse(await _probe.GetStringAsync("/bench/sessions"));
                var root = doc.RootElement;
                return (root.GetProperty("engineSessions").GetInt32(), root.GetProperty("sockets").GetInt32(), root.GetProperty("sse").GetInt32());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
            {
                _counters.SetFirstError("/bench/sessions: " + e.Message);
                return (-1, -1, -1);
            }
        }

        /// <summary>
        /// After every client left: the server's Engine.IO sessions, Socket.IO sockets and SSE connections must reach 0.
        /// Graceful leaves end at once; a polling client abandoned near the end waits for the ping timeout (45 s).
        /// </summary>
        private async Task WaitForZeroAsync(SoakSummary summary)
        {
            var limit = TimeSpan.FromSeconds(_quick ? 15 : 90);
            var sw = Stopwatch.StartNew();
            while (true)
            {
                var (engine, sockets, sse) = await ReadSessionsAsync();
                (summary.EngineSessionsAfter, summary.SocketsAfter, summary.SseAfter) = (engine, sockets, sse);
                if (engine == 0 && sockets == 0 && sse == 0)
                {
                    summary.SecondsToZero = sw.Elapsed.TotalSeconds;
                    return;
                }

                if (sw.Elapsed > limit)
                {
                    summary.SecondsToZero = -1;
                    return;
                }

                await Task.Delay(100);
            }
        }

        private void FillCounts(ScenarioResult result, SoakSummary s, double duration)
        {
            var c = _counters;
            s.Connects = Interlocked.Read(ref c.Connects);
            s.Disconnects = Interlocked.Read(ref c.Disconnects);
            s.Silent = Interlocked.Read(ref c.Silent);
            s.ConnectFailures = Interlocked.Read(ref c.ConnectFailures);
            s.UnexpectedCloses = Interlocked.Read(ref c.UnexpectedCloses);
            s.SocketIODeliveries = Interlocked.Read(ref c.Deliveries);
            s.SseDeliveries = Interlocked.Read(ref c.SseDeliveries);
            s.Joins = Interlocked.Read(ref c.Joins);
            s.Leaves = Interlocked.Read(ref c.Leaves);
            s.Echoes = Interlocked.Read(ref c.Echoes);
            s.Binaries = Interlocked.Read(ref c.Binaries);
            s.AckFailures = Interlocked.Read(ref c.AckFailures);
            s.Gaps = Interlocked.Read(ref c.Gaps);
            s.Strays = Interlocked.Read(ref c.Strays);
            s.StableMissing = StableMissing();
            s.Errors = Errors;

            long sent = _sseSent;
            foreach (long r in _roomSent)
            {
                sent += r;
            }

            result.MessagesSent = sent;
            result.Deliveries = s.SocketIODeliveries + s.SseDeliveries;
            result.ExpectedDeliveries = StableExpected();
            result.Missing = s.StableMissing + s.Gaps;
            result.OrderErrors = Interlocked.Read(ref c.BadPayloads);
            double seconds = Math.Max(1e-3, result.MeasuredSeconds);
            result.MessagesPerSecond = sent / seconds;
            result.DeliveriesPerSecond = result.Deliveries / seconds;
            result.ConnectsPerSecond = (s.Connects - result.Connected) / seconds;
            result.ServerRssBytes = s.Samples.Count > 0 ? s.Samples.Max(x => x.RssBytes) : 0;
        }

        /// <summary>First and last third means, and least-squares slopes (MB per minute).</summary>
        private static void Summarize(SoakSummary s)
        {
            var samples = s.Samples.Where(x => x.HeapBytes > 0).ToList();
            if (samples.Count == 0)
            {
                return;
            }

            int third = Math.Max(1, samples.Count / 3);
            s.HeapFirstThirdMb = samples.Take(third).Average(x => x.HeapBytes) / 1048576.0;
            s.HeapLastThirdMb = samples.Skip(samples.Count - third).Average(x => x.HeapBytes) / 1048576.0;
            s.RssFirstThirdMb = samples.Take(third).Average(x => x.RssBytes) / 1048576.0;
            s.RssLastThirdMb = samples.Skip(samples.Count - third).Average(x => x.RssBytes) / 1048576.0;
            s.HeapSlopeMbPerMinute = Slope(samples, x => x.HeapBytes);
            s.RssSlopeMbPerMinute = Slope(samples, x => x.RssBytes);
            var late = samples.Skip(third).ToList();
            s.HeapSlopeLateMbPerMinute = Slope(late, x => x.HeapBytes);
            s.RssSlopeLateMbPerMinute = Slope(late, x => x.RssBytes);
        }

        /// <summary>Least-squares slope of bytes over time, in MB per minute (0 with fewer than 2 samples).</summary>
        internal static double Slope(List<SoakSample> samples, Func<SoakSample, long> bytes)
        {
            if (samples.Count < 2)
            {
                return 0;
            }

            double mt = samples.Average(x => x.Seconds);
            double my = samples.Average(x => (double)bytes(x));
            double num = 0;
            double den = 0;
            foreach (var x in samples)
            {
                num += (x.Seconds - mt) * (bytes(x) - my);
                den += (x.Seconds - mt) * (x.Seconds - mt);
            }

            return den == 0 ? 0 : num / den * 60 / 1048576.0;
        }

        /// <summary>Functional failures only: lost or repeated messages, errors, sessions left behind.</summary>
        private void Judge(ScenarioResult result, SoakSummary s)
        {
            string first = _counters.FirstError ?? "see the log";
            if (s.EngineSessionsAfter != 0 || s.SocketsAfter != 0 || s.SseAfter != 0)
            {
                result.Error = $"after every client left the server still had {s.EngineSessionsAfter} Engine.IO sessions, " +
                    $"{s.SocketsAfter} Socket.IO sockets and {s.SseAfter} SSE connections";
            }
            else if (result.Missing > 0)
            {
                result.Error = $"{result.Missing} messages lost or repeated for clients that stayed connected " +
                    $"(stable clients missing {s.StableMissing}, gaps {s.Gaps}); first: {first}";
            }
            else if (s.Errors > 0)
            {
                result.Error = $"{s.Errors} errors (connect failures {s.ConnectFailures}, cut by the server {s.UnexpectedCloses}, " +
                    $"failed acks {s.AckFailures}); first: {first}";
            }
        }

        private string SummaryLine(ScenarioResult r, SoakSummary s) =>
            $"done: {r.MeasuredSeconds:F0} s; heap first/last third {s.HeapFirstThirdMb:F1}/{s.HeapLastThirdMb:F1} MB, slope {s.HeapSlopeMbPerMinute:F2} MB/min " +
            $"(late {s.HeapSlopeLateMbPerMinute:F2}); RSS {s.RssFirstThirdMb:F1}/{s.RssLastThirdMb:F1} MB, slope {s.RssSlopeMbPerMinute:F2} MB/min (late {s.RssSlopeLateMbPerMinute:F2}); " +
            $"connects {s.Connects:N0}, disconnects {s.Disconnects:N0} ({s.Silent:N0} silent), deliveries {r.Deliveries:N0}, echoes {s.Echoes:N0} + binary {s.Binaries:N0}, " +
            $"joins {s.Joins:N0}, leaves {s.Leaves:N0}; stable missing {s.StableMissing}, gaps {s.Gaps}, strays {s.Strays}, errors {s.Errors}" +
            (_counters.FirstError is { } e ? $" (first: {e})" : "") +
            $"; after all left: sessions {s.EngineSessionsAfter}, sockets {s.SocketsAfter}, SSE {s.SseAfter} ({(s.SecondsToZero >= 0 ? $"0 after {s.SecondsToZero:F1} s" : "NOT 0")})";
    }
}
