using Herald.Messaging;

namespace Herald.Redis;

/// <summary>
/// The outage buffer: while Redis is unreachable (after the bus was connected once), publications are copied into
/// a bounded FIFO and <c>PublishAsync</c> returns at once; what does not fit is dropped, counted and logged. Once the
/// bus is connected again (and <see cref="RedisMessageBusOptions.OutageReplayDelay"/> passed) one drainer sends the
/// buffer in order. Publications made while it drains queue behind it without a copy (their caller waits until
/// they are sent, and keeps their memory), so the order of every publication is kept.
/// </summary>
public sealed partial class RedisMessageBus
{
    private readonly Lock _bufferLock = new();
    private readonly Queue<Pending> _buffer = new();
    private readonly RedisMessageBusOptions _outageOptions;
    private long _bufferBytes;
    private int _copied;
    private bool _outage;
    private bool _draining;

    /// <inheritdoc />
    public bool BuffersWhileDisconnected => _outageOptions.OutageBufferSize > 0;

    /// <summary>Publication counters: published, buffered during outages, replayed, dropped, failed in flight.</summary>
    public RedisMessageBusCounters Counters { get; } = new();

    /// <summary>How many publications wait in the outage buffer.</summary>
    public int BufferedCount
    {
        get
        {
            lock (_bufferLock)
            {
                return _buffer.Count;
            }
        }
    }

    /// <summary>
    /// Null to publish now; otherwise a task that completes when the publication is buffered (outage) or sent
    /// (drain). Throws a <see cref="MessageBusException"/> when the outage buffer is full (the publication is dropped).
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="outage">True when a publication just found no connection to write to: the outage starts now,
    /// whether or not the state has caught up yet.</param>
    private Task? TryQueue(string channel, ReadOnlyMemory<byte> payload, bool outage = false)
    {
        long dropped;
        byte[] copy;
        lock (_bufferLock)
        {
            if (outage && _outageOptions.OutageBufferSize > 0 && !_outage)
            {
                // What queued behind a drain waits for its send: behind the copies still, in order.
                _outage = true;
                FailWaitersLocked("Redis became unreachable while the outage buffer drained");
            }

            if (!_outage && !_draining)
            {
                return outage ? DropLocked(channel) : null;
            }

            if (!_outage)
            {
                // Draining: behind the buffer, without a copy; the caller waits for the send.
                var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _buffer.Enqueue(new Pending(channel, payload, sent));
                return sent.Task;
            }

            if (_copied < _outageOptions.OutageBufferSize && _bufferBytes + payload.Length <= _outageOptions.OutageBufferBytes)
            {
                copy = payload.ToArray();
                _buffer.Enqueue(new Pending(channel, copy, null));
                _bufferBytes += payload.Length;
                _copied++;
                Interlocked.Increment(ref Counters._buffered);
                dropped = -1;
            }
            else
            {
                copy = [];
                dropped = Interlocked.Increment(ref Counters._dropped);
            }
        }

        if (dropped < 0)
        {
            // Local delivery never stops: this process's subscribers get it now; its echo after the replay is skipped.
            var local = DeliverLocallyAsync(channel, copy);
            return local.IsCompletedSuccessfully ? Task.CompletedTask : local.AsTask();
        }

        RedisLog.OutageDropped(_logger, channel, dropped);
        throw new MessageBusException($"Redis is unreachable and the outage buffer is full: publication to '{channel}' dropped.");
    }

    private Task DropLocked(string channel)
    {
        var dropped = Interlocked.Increment(ref Counters._dropped);
        RedisLog.OutageDropped(_logger, channel, dropped);
        return Task.FromException(new RedisConnectionException($"Redis is unreachable and the outage buffer is off: publication to '{channel}' dropped."));
    }

    /// <summary>Starts draining when publications were buffered while the state never left Connected (a short blip).</summary>
    private void DrainIfBuffered()
    {
        bool buffered;
        lock (_bufferLock)
        {
            buffered = _outage && !_draining;
        }

        if (buffered)
        {
            OnOutageStateChanged(MessageBusState.Connected);
        }
    }

    private void OnOutageStateChanged(MessageBusState current)
    {
        if (_outageOptions.OutageBufferSize <= 0)
        {
            return;
        }

        if (current == MessageBusState.Disconnected)
        {
            bool started;
            lock (_bufferLock)
            {
                started = !_outage;
                _outage = true;
            }

            if (started)
            {
                RedisLog.OutageBuffering(_logger, _outageOptions.OutageBufferSize);
            }
        }
        else if (current == MessageBusState.Connected)
        {
            lock (_bufferLock)
            {
                if (!_outage)
                {
                    return;
                }

                _outage = false;
                if (_buffer.Count == 0 || _draining)
                {
                    return;
                }

                _draining = true;
            }

            _ = DrainAsync();
        }
    }

    private async Task DrainAsync()
    {
        var sent = 0;
        long undelivered = 0;
        try
        {
            await Task.Delay(_outageOptions.OutageReplayDelay, Time).ConfigureAwait(false);

            // How many subscribers each buffered channel had before the outage (its last PUBLISH's count), and a wait,
            // bounded, for them to be back: Redis pub/sub keeps nothing for a node that has not resubscribed yet.
            var expected = ExpectedReceivers();
            await WaitForSubscribersAsync(expected).ConfigureAwait(false);
            while (true)
            {
                Pending next;
                lock (_bufferLock)
                {
                    if (_outage || _buffer.Count == 0 || State != MessageBusState.Connected)
                    {
                        // Empty: publications go straight to Redis again. Down again: the next reconnection drains.
                        _draining = false;
                        _outage |= _buffer.Count > 0;
                        FailWaitersLocked("Redis became unreachable again while the outage buffer drained");
                        break;
                    }

                    next = _buffer.Dequeue();
                    if (next.Sent is null)
                    {
                        _bufferBytes -= next.Payload.Length;
                        _copied--;
                    }
                }

                try
                {
                    var receivers = await PublishCoreAsync(next.Channel, next.Payload, CancellationToken.None).ConfigureAwait(false);
                    next.Sent?.TrySetResult();
                    if (next.Sent is null)
                    {
                        Interlocked.Increment(ref Counters._replayed);
                        sent++;
                        if (expected.TryGetValue(next.Channel, out var before) && receivers < before)
                        {
                            Interlocked.Add(ref Counters._undelivered, before - receivers);
                            undelivered += before - receivers;
                        }
                    }
                }
                catch (MessageBusException e)
                {
                    next.Sent?.TrySetException(e); // lost in flight (counted in Failed)
                }
                catch (NotSentException e)
                {
                    // Redis went away again before it was written: dropped and counted, never silently lost.
                    var dropped = Interlocked.Increment(ref Counters._dropped);
                    RedisLog.OutageDropped(_logger, next.Channel, dropped);
                    next.Sent?.TrySetException(new MessageBusException($"Publication to '{next.Channel}' dropped: Redis became unreachable again.", e.InnerException!));
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            lock (_bufferLock)
            {
                _draining = false;
                FailWaitersLocked("the bus was disposed");
            }
        }

        RedisLog.OutageReplayed(_logger, sent);
        if (undelivered > 0)
        {
            RedisLog.OutageUndelivered(_logger, undelivered);
        }
    }

    /// <summary>The channels in the buffer with the subscriber count their last publication before the outage reached.</summary>
    private Dictionary<string, long> ExpectedReceivers()
    {
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        lock (_bufferLock)
        {
            foreach (var pending in _buffer)
            {
                if (!expected.ContainsKey(pending.Channel) && _receivers.TryGetValue(pending.Channel, out var count) && count > 0)
                {
                    expected[pending.Channel] = count;
                }
            }
        }

        return expected;
    }

    /// <summary>
    /// Waits (up to <see cref="RedisMessageBusOptions.OutageResubscribeTimeout"/>) until <c>PUBSUB NUMSUB</c> shows every
    /// channel with as many subscribers as before the outage. Classic pub/sub outside a cluster only: there one server
    /// sees every subscriber.
    /// </summary>
    private async Task WaitForSubscribersAsync(Dictionary<string, long> expected)
    {
        var multiplexer = Volatile.Read(ref _multiplexer);
        if (expected.Count == 0 || multiplexer is null || IsSharded != false || _outageOptions.OutageResubscribeTimeout <= TimeSpan.Zero)
        {
            return;
        }

        foreach (var server in multiplexer.GetServers())
        {
            if (server.ServerType == StackExchange.Redis.ServerType.Cluster)
            {
                return;
            }
        }

        var channels = expected.Keys.Take(100).ToArray();
        var arguments = new object[channels.Length + 1];
        arguments[0] = "NUMSUB";
        for (var i = 0; i < channels.Length; i++)
        {
            arguments[i + 1] = _prefix + channels[i];
        }

        var start = Time.GetTimestamp();
        while (Time.GetElapsedTime(start) < _outageOptions.OutageResubscribeTimeout && !_shutdown.IsCancellationRequested)
        {
            try
            {
                var reply = (StackExchange.Redis.RedisResult[]?)await multiplexer.GetDatabase().ExecuteAsync("PUBSUB", arguments).ConfigureAwait(false);
                var ready = reply is not null;
                for (var i = 0; ready && i + 1 < reply!.Length; i += 2)
                {
                    ready = (long)reply[i + 1] >= expected[channels[i / 2]];
                }

                if (ready)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), Time, _shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException or InvalidCastException)
            {
                return; // replay now; what does not reach a subscriber is counted
            }
        }
    }

    /// <summary>
    /// Fails the publications that queued behind a drain without a copy (their callers wait): they are dropped and
    /// counted, so no caller waits for an outage of unknown length. The copies stay for the next reconnection.
    /// </summary>
    private void FailWaitersLocked(string reason)
    {
        if (_buffer.Count == _copied)
        {
            return;
        }

        var kept = new Queue<Pending>(_copied);
        while (_buffer.TryDequeue(out var pending))
        {
            if (pending.Sent is null)
            {
                kept.Enqueue(pending);
                continue;
            }

            Interlocked.Increment(ref Counters._dropped);
            pending.Sent.TrySetException(new MessageBusException($"Publication to '{pending.Channel}' dropped: {reason}."));
        }

        while (kept.TryDequeue(out var pending))
        {
            _buffer.Enqueue(pending);
        }
    }

    /// <summary>A queued publication: copied during an outage (no <see cref="Sent"/>), or the caller's memory while draining.</summary>
    private readonly record struct Pending(string Channel, ReadOnlyMemory<byte> Payload, TaskCompletionSource? Sent);
}
