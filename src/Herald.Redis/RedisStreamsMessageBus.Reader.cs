using Herald.Messaging;
using Herald.Messaging.Internal;
using StackExchange.Redis;
using SE = StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The reader of one stream: <c>XREAD COUNT n BLOCK t STREAMS key lastId</c> in a loop on a connection of its own, each
/// entry handed to the local subscribers in stream order. The reader is the only one that delivers locally, so the
/// publications this process hands its subscribers directly during an outage keep their place in the order.
/// </summary>
public sealed partial class RedisStreamsMessageBus
{
    private const int MaxTrackedPublishers = 10_000;

    private async Task ReadLoopAsync(StreamState s)
    {
        var token = _shutdown.Token;
        IConnectionMultiplexer reader;
        try
        {
            reader = await ConnectReaderAsync(token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return;
        }

        s.Reader = reader;
        reader.ConnectionFailed += (_, _) => s.Local.Set();
        reader.ConnectionRestored += (_, _) => s.Local.Set();
        Task<RedisResult>? reading = null;
        Task<bool>? signalled = null;
        var failed = false;
        long lastStored = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (Volatile.Read(ref _outage))
                {
                    await DeliverOwnLocallyAsync(s).ConfigureAwait(false);
                }

                if (failed || s.LastId is null)
                {
                    if (!reader.IsConnected || Volatile.Read(ref _multiplexer) is null)
                    {
                        await WaitAsync(s, TimeSpan.FromMilliseconds(100), token).ConfigureAwait(false);
                        continue;
                    }

                    try
                    {
                        if (s.LastId is null)
                        {
                            await PositionAsync(s, reader.GetDatabase(), token).ConfigureAwait(false);
                        }
                        else
                        {
                            await CheckTrimmedAsync(s, reader.GetDatabase()).ConfigureAwait(false);
                            RedisLog.StreamsReadingAgain(_logger, s.KeyName, s.LastId);
                        }
                    }
                    catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException)
                    {
                        await WaitAsync(s, TimeSpan.FromMilliseconds(100), token).ConfigureAwait(false);
                        continue;
                    }

                    failed = false;
                    s.Reading = true;
                    _monitorSignal.Set();
                }

                reading ??= reader.GetDatabase().ExecuteAsync(
                    "XREAD",
                    ["COUNT", _options.ReadCount, "BLOCK", (long)_options.ReadBlock.TotalMilliseconds, "STREAMS", s.Key, s.LastId!],
                    CommandFlags.DemandMaster);
                signalled ??= s.Local.WaitAsync(token);
                if (await Task.WhenAny(reading, signalled).ConfigureAwait(false) == signalled)
                {
                    signalled = null;
                    continue; // an outage to deliver locally, or the connection changed: the read stays pending
                }

                var read = reading;
                reading = null;
                RedisResult result;
                try
                {
                    result = await read.ConfigureAwait(false);
                }
                catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException or SE.RedisServerException)
                {
                    // SE.Redis fails it at once while the connection is down; the next read starts from the same id.
                    if (!failed && s.Reading)
                    {
                        RedisLog.StreamsReadFailed(_logger, s.KeyName, s.LastId!, e);
                    }

                    failed = true;
                    s.Reading = false;
                    _monitorSignal.Set();
                    await WaitAsync(s, TimeSpan.FromMilliseconds(100), token).ConfigureAwait(false);
                    continue;
                }

                if (!result.IsNull)
                {
                    await HandleBatchAsync(s, result).ConfigureAwait(false);
                    if (_options.ResumeAfterRestart && Time.GetElapsedTime(lastStored) > TimeSpan.FromMilliseconds(200))
                    {
                        lastStored = Time.GetTimestamp();
                        StoreOffset(s);
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            s.Reading = false;
            _ = reading?.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    private async Task WaitAsync(StreamState s, TimeSpan delay, CancellationToken token)
    {
        await s.Local.WaitAsync(delay, Time, token).ConfigureAwait(false);
        token.ThrowIfCancellationRequested();
    }

    private async Task<IConnectionMultiplexer> ConnectReaderAsync(CancellationToken token)
    {
        var configuration = _connection.Options.ToConfiguration();

        // The blocking XREAD occupies this connection: nothing else is sent on it, and it must not time out.
        var timeout = (int)Math.Min(int.MaxValue, _options.ReadBlock.TotalMilliseconds + Math.Max(5000, configuration.AsyncTimeout));
        configuration.AsyncTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.AbortOnConnectFail = false;
        configuration.ClientName = (configuration.ClientName is { Length: > 0 } name ? name : "herald") + "-stream-reader";
        var attempt = 0;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            try
            {
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                if (token.IsCancellationRequested)
                {
                    await multiplexer.DisposeAsync().ConfigureAwait(false);
                    token.ThrowIfCancellationRequested();
                }

                return multiplexer;
            }
            catch (SE.RedisConnectionException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt++, 10)))), Time, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Where this node starts reading: where it stopped (resumed restart), else the stream's last entry now.</summary>
    private async Task PositionAsync(StreamState s, IDatabase database, CancellationToken token)
    {
        if (_options.ResumeAfterRestart && Volatile.Read(ref _multiplexer) is { } shared)
        {
            var stored = await shared.GetDatabase().HashGetAsync(_offsetsKey, s.OffsetField).ConfigureAwait(false);
            if (!stored.IsNull)
            {
                s.LastId = stored.ToString();
                RedisLog.StreamsResumed(_logger, s.KeyName, s.LastId);
                await CheckTrimmedAsync(s, database).ConfigureAwait(false);

                // Ready (publications work), but what was missed is read only once someone listens for it.
                s.Reading = true;
                _monitorSignal.Set();
                await s.Subscribed.Task.WaitAsync(token).ConfigureAwait(false);
                return;
            }
        }

        var last = await database.StreamRangeAsync(s.Key, "-", "+", count: 1, messageOrder: Order.Descending, flags: CommandFlags.DemandMaster).ConfigureAwait(false);
        s.LastId = last.Length > 0 ? last[0].Id.ToString() : "0-0";
    }

    /// <summary>Logs and counts (<see cref="RedisStreamsMessageBusCounters.Gaps"/>) entries trimmed past this node's position.</summary>
    private async Task CheckTrimmedAsync(StreamState s, IDatabase database)
    {
        StreamInfo info;
        try
        {
            info = await database.StreamInfoAsync(s.Key, CommandFlags.DemandMaster).ConfigureAwait(false);
        }
        catch (SE.RedisServerException)
        {
            return; // no stream yet
        }

        var position = ParseId(s.LastId!);
        var maxDeleted = ParseId(info.MaxDeletedEntryId.ToString());
        if (!info.FirstEntry.IsNull && maxDeleted.CompareTo(position) > 0 && ParseId(info.FirstEntry.Id.ToString()).CompareTo(position) > 0)
        {
            Interlocked.Increment(ref Counters._gaps);
            RedisLog.StreamsTrimmed(_logger, s.KeyName, s.LastId!, info.MaxDeletedEntryId.ToString(), info.FirstEntry.Id.ToString());
        }
    }

    private static (ulong Milliseconds, ulong Sequence) ParseId(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return (ulong.TryParse(id, out var only) ? only : 0, 0);
        }

        _ = ulong.TryParse(id.AsSpan(0, dash), out var ms);
        _ = ulong.TryParse(id.AsSpan(dash + 1), out var seq);
        return (ms, seq);
    }

    private void StoreOffset(StreamState s)
    {
        if (Volatile.Read(ref _multiplexer) is { } shared && s.LastId is { } id)
        {
            _ = shared.GetDatabase().HashSetAsync(_offsetsKey, s.OffsetField, id, flags: CommandFlags.FireAndForget);
        }
    }

    private async Task StoreOffsetsAsync()
    {
        if (Volatile.Read(ref _multiplexer) is not { } shared)
        {
            return;
        }

        foreach (var s in _streams)
        {
            if (s.LastId is { } id)
            {
                try
                {
                    await shared.GetDatabase().HashSetAsync(_offsetsKey, s.OffsetField, id).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException)
                {
                    // Redis is gone: the offset written after the last batch stands.
                }
            }
        }
    }

    /// <summary>During an outage: hands this process's publications not delivered yet to its subscribers, in order.</summary>
    private async Task DeliverOwnLocallyAsync(StreamState s)
    {
        List<Own>? deliver = null;
        lock (_gate)
        {
            if (!_outage)
            {
                return;
            }

            foreach (var own in s.Pending)
            {
                if (!own.Delivered && own.Seq > s.OwnDelivered)
                {
                    own.Delivered = true;
                    (deliver ??= []).Add(own);
                }
            }

            if (deliver is not null)
            {
                s.OwnDelivered = deliver[^1].Seq;
            }
        }

        if (deliver is null)
        {
            return;
        }

        // The copies stay until read back from the stream, which only this loop does.
        foreach (var own in deliver)
        {
            await DispatchAsync(own.Channel, own.Payload).ConfigureAwait(false);
        }
    }

    private async Task HandleBatchAsync(StreamState s, RedisResult result)
    {
        long ownMax = 0;
        foreach (var stream in (RedisResult[])result!)
        {
            var parts = (RedisResult[])stream!;
            foreach (var item in (RedisResult[])parts[1]!)
            {
                var entry = (RedisResult[])item!;
                var fields = (RedisResult[])entry[1]!;
                string? channel = null;
                string? origin = null;
                long seq = 0;
                byte[]? payload = null;
                for (var i = 0; i + 1 < fields.Length; i += 2)
                {
                    var name = (RedisValue)fields[i];
                    if (name == "p")
                    {
                        payload = (byte[]?)fields[i + 1];
                    }
                    else if (name == "c")
                    {
                        channel = (string?)fields[i + 1];
                    }
                    else if (name == "o")
                    {
                        origin = (string?)fields[i + 1];
                    }
                    else if (name == "s")
                    {
                        _ = ((RedisValue)fields[i + 1]).TryParse(out seq);
                    }
                }

                s.LastId = entry[0].ToString();
                if (string.IsNullOrEmpty(channel) || !Accept(s, origin, seq, ref ownMax))
                {
                    continue;
                }

                await DispatchAsync(channel, payload ?? []).ConfigureAwait(false);
            }
        }

        if (ownMax > 0)
        {
            ReadBack(s, ownMax);
        }
    }

    /// <summary>False for an entry already delivered (a second copy, or delivered locally during an outage); counts gaps.</summary>
    private bool Accept(StreamState s, string? origin, long seq, ref long ownMax)
    {
        if (origin is null || seq <= 0)
        {
            return true; // a foreign publisher (XADD by hand): no sequence to check
        }

        if (string.Equals(origin, _origin, StringComparison.Ordinal))
        {
            ownMax = Math.Max(ownMax, seq);
            if (seq <= s.OwnDelivered)
            {
                return false;
            }

            if (seq > s.OwnDelivered + 1)
            {
                CountMissed(s, origin, seq - s.OwnDelivered - 1);
            }

            s.OwnDelivered = seq;
            return true;
        }

        if (s.LastSeen.TryGetValue(origin, out var last))
        {
            if (seq <= last)
            {
                Interlocked.Increment(ref Counters._duplicates);
                return false;
            }

            if (seq > last + 1)
            {
                CountMissed(s, origin, seq - last - 1);
            }
        }
        else if (s.LastSeen.Count >= MaxTrackedPublishers)
        {
            s.LastSeen.Clear(); // publishers come and go; a bounded memory of them
        }

        s.LastSeen[origin] = seq;
        return true;
    }

    private void CountMissed(StreamState s, string origin, long missed)
    {
        var total = Interlocked.Add(ref Counters._missed, missed);
        RedisLog.StreamsMissed(_logger, s.KeyName, origin, missed, total);
    }

    /// <summary>This process's publications up to <paramref name="seq"/> are in the stream and were read: forget their copies.</summary>
    private void ReadBack(StreamState s, long seq)
    {
        lock (_gate)
        {
            var count = 0;
            while (count < s.Pending.Count && s.Pending[count].Seq <= seq)
            {
                var own = s.Pending[count++];
                own.ReadBack = true;
                if (!own.InFlight)
                {
                    own.Added = true;
                    UnqueueLocked(own);
                }

                own.ReleaseIfDone();
            }

            s.Pending.RemoveRange(0, count);
        }
    }

    /// <summary>Hands one entry to the exact and pattern subscribers of its channel, waiting for slow handlers (backpressure).</summary>
    private async ValueTask DispatchAsync(string channel, ReadOnlyMemory<byte> payload)
    {
        if (_registry.TryGetChannel(channel, out var exact))
        {
            var pending = MessageDispatcher.DispatchAsync(exact.Subscriptions, new BusMessage(exact.Name, null, payload), _logger);
            if (!pending.IsCompletedSuccessfully)
            {
                await pending.ConfigureAwait(false);
            }
        }

        var patterns = _registry.Patterns;
        for (var i = 0; i < patterns.Length; i++)
        {
            if (GlobPattern.IsMatch(patterns[i].Name, channel))
            {
                var pending = MessageDispatcher.DispatchAsync(patterns[i].Subscriptions, new BusMessage(channel, patterns[i].Name, payload), _logger);
                if (!pending.IsCompletedSuccessfully)
                {
                    await pending.ConfigureAwait(false);
                }
            }
        }
    }
}
