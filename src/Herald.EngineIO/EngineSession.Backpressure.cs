using Herald.EngineIO.WebSockets;

namespace Herald.EngineIO;

/// <summary>
/// Queuing with a bound: what waits for a client (queued plus the batch being written) stays under
/// <see cref="EngineIOOptions.MaxOutboundQueue"/> messages and <see cref="EngineIOOptions.MaxOutboundBytes"/>
/// bytes. A message that would go over first evicts the queued volatile messages; if that is not enough the
/// client is too slow: the message is refused, later sends are refused, and the session is closed from the
/// thread pool (never inside <c>Send</c>, which runs in the middle of a broadcast's room enumeration).
/// </summary>
internal sealed partial class EngineSession
{
    private long _queuedBytes;
    private int _queuedVolatile;
    private int _inFlightMessages;
    private long _inFlightBytes;
    private bool _overflowed;

    public override bool Send(EngineMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Enqueue(new ReadOnlySpan<EngineMessage>(in message), isVolatile: false);
    }

    public override bool Send(ReadOnlySpan<EngineMessage> messages)
    {
        if (messages.IsEmpty)
        {
            return IsConnected;
        }

        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
        }

        return Enqueue(messages, isVolatile: false);
    }

    public override bool SendVolatile(EngineMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Enqueue(new ReadOnlySpan<EngineMessage>(in message), isVolatile: true);
    }

    public override bool SendVolatile(ReadOnlySpan<EngineMessage> messages)
    {
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
        }

        return !messages.IsEmpty && Enqueue(messages, isVolatile: true);
    }

    /// <summary>
    /// What a message counts against the byte bound: what holding it keeps alive, its payload and its transport
    /// encoding (the WebSocket frame, or the base64 polling form) cached on it. A broadcast's message is shared by every
    /// session but counts fully in each queue: once the others have sent it, the slow client's queue alone holds it.
    /// </summary>
    private static int SizeOf(EngineMessage message) => WebSocketFrames.HeaderLength(message.Payload.Length) + (2 * message.Payload.Length);

    private bool Enqueue(ReadOnlySpan<EngineMessage> messages, bool isVolatile)
    {
        long bytes = 0;
        foreach (var message in messages)
        {
            bytes += SizeOf(message);
        }

        var signal = false;
        var schedule = false;
        var slow = false;
        lock (_lock)
        {
            if (_state != SessionState.Open || _overflowed)
            {
                return false;
            }

            if (isVolatile && (_queue.Count > 0 || _flushing || (_webSocket is null && !_pollActive)))
            {
                // Not writable: like the reference server, a volatile packet is dropped rather than buffered.
                EngineIOMetrics.VolatileDropped.Add(messages.Length);
                return false;
            }

            if (!Fits(messages.Length, bytes) && (_queuedVolatile == 0 || !EvictVolatileLocked() || !Fits(messages.Length, bytes)))
            {
                _overflowed = true;
                slow = true;
            }
            else
            {
                signal = _queue.Count == 0 && _writer is null;
                foreach (var message in messages)
                {
                    _queue.Enqueue(new OutboundPacket(Protocol.EngineIO.EnginePacketType.Message, message, SizeOf(message), isVolatile));
                }

                _queuedBytes += bytes;
                if (isVolatile)
                {
                    _queuedVolatile += messages.Length;
                }

                if (_writer is not null && !_drainScheduled)
                {
                    _drainScheduled = true;
                    schedule = true;
                }
            }
        }

        if (slow)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static session => session.AbortSlowClient(), this, preferLocal: false);
            return false;
        }

        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        else if (signal)
        {
            Signal();
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="count"/> more messages of <paramref name="bytes"/> stay within the bounds. One
    /// message bigger than the byte bound still goes when nothing waits (else it could never be sent).
    /// </summary>
    private bool Fits(int count, long bytes)
    {
        var waiting = _queue.Count + _inFlightMessages;
        if (waiting + count > _maxQueue)
        {
            return false;
        }

        return waiting == 0 || _queuedBytes + _inFlightBytes + bytes <= _maxBytes;
    }

    /// <summary>Drops every queued volatile message (rare: only on overflow); returns true when any was dropped.</summary>
    private bool EvictVolatileLocked()
    {
        var count = _queue.Count;
        var dropped = 0;
        for (var i = 0; i < count; i++)
        {
            var packet = _queue.Dequeue();
            if (packet.IsVolatile)
            {
                dropped++;
                _queuedBytes -= packet.Size;
            }
            else
            {
                _queue.Enqueue(packet);
            }
        }

        _queuedVolatile = 0;
        if (dropped > 0)
        {
            EngineIOMetrics.VolatileDropped.Add(dropped);
        }

        return dropped > 0;
    }

    /// <summary>The batch taken by <see cref="TakeQueuedLocked"/> was written (or dropped): it no longer counts.</summary>
    private void EndInFlightLocked()
    {
        _inFlightMessages = 0;
        _inFlightBytes = 0;
    }

    private void AbortSlowClient()
    {
        int messages;
        long bytes;
        lock (_lock)
        {
            messages = _queue.Count + _inFlightMessages;
            bytes = _queuedBytes + _inFlightBytes;
        }

        EngineIOLog.SlowClient(_logger, Id, messages, bytes, _maxQueue, _maxBytes);
        EngineIOMetrics.SlowClientDisconnects.Add(1);
        Abort(EngineCloseReasons.TransportError, new IOException(
            $"Slow client: {messages} messages / {bytes} bytes waiting to be written (MaxOutboundQueue {_maxQueue}, MaxOutboundBytes {_maxBytes})."));

        // The writes are stuck on a client that does not read: drop the connection now rather than after CloseTimeout.
        ServerWebSocket? webSocket;
        lock (_lock)
        {
            webSocket = _webSocket;
        }

        webSocket?.Abort();
    }
}
