using System.Diagnostics;

namespace Herald.Bench.Generator.Soak;

internal static partial class SoakScenario
{
    private sealed partial class SoakRun
    {
        /// <summary>
        /// The publisher: R messages/s to every room and to the SSE topic, round-robin, paced on a 10 ms timer. Its
        /// sends go over one connection, so the server relays each room's messages in order (the clients check it).
        /// </summary>
        private async Task PublishLoopAsync(BenchClient publisher, CancellationToken ct)
        {
            int targets = _rooms + 1;
            double total = _rate * targets;
            byte[] buffer = new byte[Math.Max(_ctx.Options.Size, 64)];
            long sent = 0;
            long start = Stopwatch.GetTimestamp();
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    long due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * total);
                    while (sent < due && !ct.IsCancellationRequested)
                    {
                        int target = (int)(sent % targets);
                        if (target < _rooms)
                        {
                            int len = Payload.Write(buffer, _roomSent[target], target, Stopwatch.GetTimestamp(), _ctx.Options.Size);
                            await publisher.PublishAsync(_roomNames[target], buffer.AsSpan(0, len));
                            Volatile.Write(ref _roomSent[target], _roomSent[target] + 1);
                        }
                        else
                        {
                            int len = Payload.Write(buffer, _sseSent, _rooms, Stopwatch.GetTimestamp(), _ctx.Options.Size);
                            await ((SocketIOBenchClient)publisher).PublishSseAsync("soak", buffer.AsSpan(0, len));
                            Volatile.Write(ref _sseSent, _sseSent + 1);
                        }

                        sent++;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>Every tick: replace dead clients, churn, move between rooms, echo (amounts per second spread over ticks).</summary>
        private async Task ControlLoopAsync(CancellationToken ct)
        {
            double churn = 0;
            double moves = 0;
            double echoes = 0;
            int socketIOClients = 0;
            for (int i = 0; i < _n; i++)
            {
                socketIOClients += KindOf(i) == SoakKind.Sse ? 0 : 1;
            }

            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(TickSeconds));
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    Sweep();
                    churn += _n * ChurnPerSecond * TickSeconds;
                    moves += _n * MovesPerSecond * TickSeconds;
                    echoes += socketIOClients * EchoesPerClientPerSecond * TickSeconds;
                    for (; churn >= 1; churn--)
                    {
                        Start(PickSlot(_stable, socketIOOnly: false), ChurnAsync);
                    }

                    for (; moves >= 1; moves--)
                    {
                        Start(PickSlot(_stable, socketIOOnly: true), MoveAsync);
                    }

                    for (; echoes >= 1; echoes--)
                    {
                        Start(PickSlot(0, socketIOOnly: true), EchoAsync);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>A random live, idle slot at or above <paramref name="from"/> (a few tries; -1 if none found).</summary>
        private int PickSlot(int from, bool socketIOOnly)
        {
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int i = Random.Shared.Next(from, _n);
                if (Volatile.Read(ref _slots[i]) is { } c && (!socketIOOnly || c is ISoakSocketIOClient) && Volatile.Read(ref _busy[i]) == 0)
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>Runs one operation on slot i if it is idle; the slot stays busy until it ends.</summary>
        private void Start(int i, Func<int, Task> operation)
        {
            if (i < 0 || Interlocked.CompareExchange(ref _busy[i], 1, 0) != 0)
            {
                return;
            }

            Interlocked.Increment(ref _inflight);
            _ = RunAsync();

            async Task RunAsync()
            {
                try
                {
                    await operation(i);
                }
                catch (Exception e)
                {
                    _counters.SetFirstError($"operation on client {i} failed: {e.GetType().Name}: {e.Message}");
                    Interlocked.Increment(ref _counters.AckFailures);
                }
                finally
                {
                    Volatile.Write(ref _busy[i], 0);
                    Interlocked.Decrement(ref _inflight);
                }
            }
        }

        /// <summary>
        /// Clients the server cut (or that failed) are errors: counted, then replaced (a stable one is lost: its messages
        /// can no longer be checked). Empty slots (a failed connect) are filled again.
        /// </summary>
        private void Sweep()
        {
            for (int i = 0; i < _n; i++)
            {
                if (Volatile.Read(ref _busy[i]) != 0)
                {
                    continue;
                }

                var c = Volatile.Read(ref _slots[i]);
                if (c is not null && c.Failure is { } failure)
                {
                    Interlocked.Increment(ref _counters.UnexpectedCloses);
                    _counters.SetFirstError($"{c.Kind} client {i} ended without leaving: {failure}");
                    if (IsStable(i))
                    {
                        _lost[i] = true;
                    }

                    Start(i, async slot =>
                    {
                        var dead = Volatile.Read(ref _slots[slot]);
                        Volatile.Write(ref _slots[slot], null);
                        if (dead is not null)
                        {
                            await dead.CloseAsync(SoakLeave.Abrupt);
                        }

                        if (!IsStable(slot))
                        {
                            await FillSlotAsync(slot);
                        }
                    });
                }
                else if (c is null && !IsStable(i))
                {
                    Start(i, FillSlotAsync);
                }
            }
        }

        /// <summary>
        /// The client leaves and a new one takes its slot. Half leave gracefully, 40 % abruptly and, except in --quick
        /// (whose run is shorter than the server's 45 s heartbeat), 10 % go silent: that wait runs on its own (tracked
        /// until the end of the run) while the new client connects at once. In --quick, polling clients never leave
        /// abruptly either (see below).
        /// </summary>
        private async Task ChurnAsync(int i)
        {
            var old = Volatile.Read(ref _slots[i]);
            Volatile.Write(ref _slots[i], null);
            if (old is null)
            {
                return;
            }

            int roll = Random.Shared.Next(10);
            var how = roll < 5 ? SoakLeave.Graceful : roll < 9 || _quick ? SoakLeave.Abrupt : SoakLeave.Silent;
            if (_quick && how == SoakLeave.Abrupt && old.Kind == SoakKind.Polling)
            {
                // A polling client aborted between two polls (no GET pending) is only ended by the heartbeat, which
                // outlasts --quick's final check: there, polling clients leave gracefully.
                how = SoakLeave.Graceful;
            }

            Interlocked.Increment(ref _counters.Disconnects);
            if (how == SoakLeave.Silent)
            {
                Interlocked.Increment(ref _counters.Silent);
                Track(old.CloseAsync(how));
            }
            else
            {
                await old.CloseAsync(how);
            }

            await FillSlotAsync(i);
        }

        /// <summary>Counts a background task as in flight until it ends (the end of the run waits for it).</summary>
        private void Track(Task task)
        {
            Interlocked.Increment(ref _inflight);
            _ = Observe(task);

            async Task Observe(Task t)
            {
                try
                {
                    await t;
                }
                catch (Exception e)
                {
                    _counters.SetFirstError("a silent client's close failed: " + e.Message);
                }
                finally
                {
                    Interlocked.Decrement(ref _inflight);
                }
            }
        }

        private async Task MoveAsync(int i)
        {
            if (Volatile.Read(ref _slots[i]) is not ISoakSocketIOClient c)
            {
                return;
            }

            await c.IO.LeaveAsync(OpTimeout);
            Interlocked.Increment(ref _counters.Leaves);
            int room = (c.IO.Room + 1 + Random.Shared.Next(_rooms - 1)) % _rooms;
            await c.IO.JoinAsync(room, OpTimeout);
            Interlocked.Increment(ref _counters.Joins);
        }

        private async Task EchoAsync(int i)
        {
            if (Volatile.Read(ref _slots[i]) is not ISoakSocketIOClient c)
            {
                return;
            }

            long k = Interlocked.Increment(ref _payloadCounter);
            bool ok;
            bool binary = k % 10 == 0;
            if (binary)
            {
                byte[] data = new byte[1 + (int)(k % 2048)];
                Random.Shared.NextBytes(data);
                ok = await c.IO.BinaryAsync(data, OpTimeout);
            }
            else
            {
                ok = await c.IO.EchoAsync("e" + k.ToString(System.Globalization.CultureInfo.InvariantCulture) + new string('x', 40), OpTimeout);
            }

            if (ok)
            {
                Interlocked.Increment(ref binary ? ref _counters.Binaries : ref _counters.Echoes);
            }
            else
            {
                Interlocked.Increment(ref _counters.AckFailures);
                _counters.SetFirstError($"client {i}: {(binary ? "bin" : "echo")} acked with the wrong data");
            }
        }

        private async Task WaitInflightAsync(TimeSpan limit)
        {
            var sw = Stopwatch.StartNew();
            while (Volatile.Read(ref _inflight) > 0 && sw.Elapsed < limit)
            {
                await Task.Delay(20);
            }

            if (Volatile.Read(ref _inflight) > 0)
            {
                _counters.SetFirstError($"{_inflight} operations still running {limit.TotalSeconds:F0} s after the run");
                Interlocked.Increment(ref _counters.AckFailures);
            }
        }

        /// <summary>Waits (bounded) until every stable client has every message sent to its room or topic.</summary>
        private async Task DrainStableAsync(TimeSpan limit)
        {
            var sw = Stopwatch.StartNew();
            while (StableMissing() > 0 && sw.Elapsed < limit)
            {
                await Task.Delay(20);
            }
        }

        private long StableMissing()
        {
            long missing = 0;
            for (int i = 0; i < _stable; i++)
            {
                if (_lost[i] || Volatile.Read(ref _slots[i]) is not { } c)
                {
                    continue;
                }

                long expected = c is ISoakSocketIOClient sio ? Volatile.Read(ref _roomSent[sio.IO.Room]) : Volatile.Read(ref _sseSent);
                missing += Math.Max(0, expected - c.Received);
            }

            return missing;
        }

        private long StableExpected()
        {
            long expected = 0;
            for (int i = 0; i < _stable; i++)
            {
                if (!_lost[i] && Volatile.Read(ref _slots[i]) is { } c)
                {
                    expected += c is ISoakSocketIOClient sio ? _roomSent[sio.IO.Room] : _sseSent;
                }
            }

            return expected;
        }

        /// <summary>Everyone leaves at once: Socket.IO clients gracefully (disconnect, then close), SSE clients close.</summary>
        private async Task CloseAllAsync(BenchClient publisher)
        {
            var closing = new List<Task>(_n + 1);
            for (int i = 0; i < _n; i++)
            {
                if (Interlocked.Exchange(ref _slots[i], null) is { } c)
                {
                    closing.Add(c.CloseAsync(SoakLeave.Graceful));
                    Interlocked.Increment(ref _counters.Disconnects);
                }
            }

            closing.Add(publisher.CloseAsync());
            try
            {
                await Task.WhenAll(closing).WaitAsync(OpTimeout);
            }
            catch (Exception e)
            {
                _counters.SetFirstError("closing the clients failed: " + e.Message);
            }
        }
    }
}
