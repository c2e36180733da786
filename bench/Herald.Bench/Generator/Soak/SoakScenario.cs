using System.Diagnostics;
using System.Globalization;

namespace Herald.Bench.Generator.Soak;

/// <summary>
/// soak: a long run that churns connections and traffic against the Herald bench server while its memory is sampled.
/// A steady population of N clients (60 % Socket.IO over WebSocket, 25 % over long-polling, 15 % EventSource on topic
/// "soak"), each Socket.IO client in one room "soakK" of about 50; every second a fraction of them (5 %) leave — half
/// gracefully, 40 % by just going away, 10 % by going silent (left to the server's heartbeat; not in --quick) — and as
/// many new ones connect; 2 % switch rooms (leave + join, both acked);
/// each Socket.IO client emits an acked "echo" about every 2 s, one in ten a binary attachment ("bin", acked with its
/// length). One publisher sends R (20) messages/s to every room and to the SSE topic. A tenth of the population is
/// stable (never churned, never moved): every message to its room must reach it, in order. Every few seconds the
/// server's managed heap (after a forced full GC), RSS, Engine.IO sessions, Socket.IO sockets and SSE connections are
/// sampled with the throughput. At the end every client leaves and the server's sessions, sockets and SSE connections
/// must return to 0. Fails on: a stable client missing a message, a gap in any client's room stream, a failed ack or
/// echo, a connection the server ended, or sessions left behind. No speed is asserted.
/// </summary>
internal static partial class SoakScenario
{
    private static readonly TimeSpan OpTimeout = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(GeneratorContext ctx, ScenarioResult result)
    {
        var run = new SoakRun(ctx);
        await run.RunAsync(result);
    }

    /// <summary>Slot i's transport: 12 of every 20 WebSocket, 5 polling, 3 SSE.</summary>
    internal static SoakKind KindOf(int slot) => (slot % 20) switch
    {
        < 12 => SoakKind.WebSocket,
        < 17 => SoakKind.Polling,
        _ => SoakKind.Sse,
    };

    private sealed partial class SoakRun : IDisposable
    {
        private const double ChurnPerSecond = 0.05;
        private const double MovesPerSecond = 0.02;
        private const double EchoesPerClientPerSecond = 0.5;
        private const double TickSeconds = 0.25;

        private readonly GeneratorContext _ctx;
        private readonly SoakCounters _counters = new();
        private readonly SoakSseSink _sseSink;
        private readonly HttpClient _http = SoakPollingClient.CreateHttpClient();
        private readonly HttpClient _probe;
        private readonly ISoakClient?[] _slots;
        private readonly int[] _busy;
        private readonly bool[] _lost;
        private readonly long[] _roomSent;
        private readonly string[] _roomNames;
        private readonly int _n;
        private readonly int _rooms;
        private readonly int _stable;
        private readonly double _rate;
        private readonly bool _quick;
        private long _sseSent;
        private int _inflight;
        private long _payloadCounter;

        public SoakRun(GeneratorContext ctx)
        {
            _ctx = ctx;
            var o = ctx.Options;
            _quick = o.Quick;
            _n = o.ClientsFor("soak");
            _rooms = Math.Max(2, _n / 50);
            _stable = Math.Max(Math.Min(_n, 20), _n / 10);
            _rate = o.RateFor("soak");
            _slots = new ISoakClient?[_n];
            _busy = new int[_n];
            _lost = new bool[_n];
            _roomSent = new long[_rooms];
            _roomNames = new string[_rooms];
            for (int r = 0; r < _rooms; r++)
            {
                _roomNames[r] = "soak" + r.ToString(CultureInfo.InvariantCulture);
            }

            _sseSink = new SoakSseSink(_counters);
            _probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{o.Port}"), Timeout = TimeSpan.FromSeconds(30) };
        }

        public void Dispose()
        {
            _http.Dispose();
            _probe.Dispose();
        }

        public async Task RunAsync(ScenarioResult result)
        {
            try
            {
                await RunCoreAsync(result);
            }
            finally
            {
                Dispose();
            }
        }

        private async Task RunCoreAsync(ScenarioResult result)
        {
            var o = _ctx.Options;
            var summary = new SoakSummary
            {
                Rooms = _rooms,
                StableClients = _stable,
                RatePerRoom = _rate,
                SampleSeconds = _quick ? 2 : 5,
            };
            result.Soak = summary;
            var idleBefore = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
            summary.IdleHeapBeforeBytes = idleBefore.Heap;
            summary.IdleRssBeforeBytes = idleBefore.Rss;

            var (pubs, failed, error) = await _ctx.ConnectAsync(1, _n);
            if (failed > 0)
            {
                throw new IOException("publisher could not connect: " + error);
            }

            var publisher = pubs[0];
            var sw = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, _n), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency },
                async (i, _) => await FillSlotAsync(i));
            result.Connected = _slots.Count(s => s is not null);
            _ctx.Log($"{result.Connected} of {_n} clients connected in {sw.Elapsed.TotalSeconds:F1} s ({_rooms} rooms, {_stable} stable clients)");

            using var stop = new CancellationTokenSource();
            var runClock = Stopwatch.StartNew();
            var sampling = SampleLoopAsync(summary, runClock, stop.Token);
            var publishing = PublishLoopAsync(publisher, stop.Token);
            var control = ControlLoopAsync(stop.Token);
            double duration = o.DurationFor("soak");
            await using (_ctx.Progress(ProgressLine))
            {
                await Task.Delay(TimeSpan.FromSeconds(duration));
                await stop.CancelAsync();
                await Task.WhenAll(publishing, control);
                result.MeasuredSeconds = runClock.Elapsed.TotalSeconds;
                await WaitInflightAsync(SoakWebSocketClient.SilentLimit + OpTimeout);
                await DrainStableAsync(TimeSpan.FromSeconds(10));
            }

            await sampling;
            FillCounts(result, summary, duration);

            // Everyone leaves (gracefully, so the count is not waiting on the ping timeout), then the server must be
            // back to no session, socket or SSE connection at all.
            await CloseAllAsync(publisher);
            await WaitForZeroAsync(summary);
            var idleAfter = await ProcessStats.ReadServerMemoryAsync(o.Port, o.ServerPid);
            summary.IdleHeapAfterBytes = idleAfter.Heap;
            summary.IdleRssAfterBytes = idleAfter.Rss;
            Summarize(summary);
            Judge(result, summary);
            _ctx.Log(SummaryLine(result, summary));
        }

        private string ProgressLine()
        {
            int live = 0;
            foreach (var s in _slots)
            {
                live += s is null ? 0 : 1;
            }

            return $"{live} clients live; connects {Interlocked.Read(ref _counters.Connects):N0}, disconnects {Interlocked.Read(ref _counters.Disconnects):N0}, " +
                $"deliveries {Interlocked.Read(ref _counters.Deliveries) + Interlocked.Read(ref _counters.SseDeliveries):N0}, echoes {Interlocked.Read(ref _counters.Echoes):N0}, " +
                $"errors {Errors}";
        }

        private long Errors => Interlocked.Read(ref _counters.ConnectFailures) + Interlocked.Read(ref _counters.UnexpectedCloses)
            + Interlocked.Read(ref _counters.AckFailures) + Interlocked.Read(ref _counters.BadPayloads);

        private bool IsStable(int slot) => slot < _stable;

        /// <summary>Connects slot i's client (its kind is fixed by the slot) and puts it in a room; failures are counted.</summary>
        private async Task FillSlotAsync(int i)
        {
            bool stable = IsStable(i);
            var kind = KindOf(i);
            ISoakClient? client = null;
            try
            {
                using var timeout = new CancellationTokenSource(OpTimeout);
                switch (kind)
                {
                    case SoakKind.WebSocket:
                        client = await SoakWebSocketClient.ConnectAsync(_ctx.Server, _counters, stable, i, timeout.Token);
                        break;
                    case SoakKind.Polling:
                        client = await SoakPollingClient.ConnectAsync(_http, _ctx.Options.Port, _counters, stable, OpTimeout);
                        break;
                    default:
                        client = await SoakSseClient.ConnectAsync(_ctx.Server, _sseSink, stable, i, timeout.Token);
                        break;
                }

                if (client is ISoakSocketIOClient sio)
                {
                    await sio.IO.JoinAsync(stable ? i % _rooms : Random.Shared.Next(_rooms), OpTimeout);
                    Interlocked.Increment(ref _counters.Joins);
                }

                Interlocked.Increment(ref _counters.Connects);
                Volatile.Write(ref _slots[i], client);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _counters.ConnectFailures);
                _counters.SetFirstError($"{kind} connect failed: {e.GetType().Name}: {e.Message}");
                if (client is not null)
                {
                    await client.CloseAsync(SoakLeave.Abrupt);
                }

                if (stable)
                {
                    _lost[i] = true;
                }
            }
        }
    }
}
