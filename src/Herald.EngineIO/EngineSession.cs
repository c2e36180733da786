using System.Threading.Channels;
using Herald.EngineIO.WebSockets;
using Herald.Protocol.EngineIO;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.EngineIO;

/// <summary>
/// The server side of one Engine.IO session. Owns the outbound queue that whichever transport is current
/// drains (a pending long-polling GET, or the WebSocket writer loop), the heartbeat deadlines that the
/// server's single sweep timer checks, and the close state machine.
/// </summary>
/// <remarks>
/// States: Open → (Closing: a graceful <see cref="Close"/> waits for the queue to be flushed) → Closed.
/// Every field below is guarded by <see cref="_lock"/>, which is never held across an await. Over WebSocket
/// the writer is not a waiting loop but a drain scheduled on the thread pool when the first packet is
/// queued (this object is the work item): an idle connection holds no writer state, and every packet
/// queued before the drain runs goes out in the same flush. A polling GET sleeps on <see cref="_signal"/>,
/// a one-slot channel created on first use, written when the queue becomes non-empty or the state changes
/// and completed when the session closes.
/// </remarks>
internal sealed partial class EngineSession : EngineConnection, IThreadPoolWorkItem
{
    private readonly EngineIOServer _server;
    private readonly ILogger _logger;
    private readonly int _maxQueue;
    private readonly long _maxBytes;
    private readonly Lock _lock = new();
    private readonly Queue<OutboundPacket> _queue = new();
    private Channel<bool>? _signal;

    private volatile SessionState _state;
    private string _transportName;
    private ServerWebSocket? _webSocket;
    private ServerWebSocket? _writer;
    private bool _drainScheduled;
    private TaskCompletionSource? _drainDone;
    private bool _flushing;
    private string _closeReason = EngineCloseReasons.ForcedClose;
    private bool _clientClosed;
    private int _listenerNotified;
    private volatile IHeaderDictionary? _currentHeaders;

    // Heartbeat: the next ping is due at anchor + interval; the session times out at anchor + interval + timeout.
    // The anchor moves on every pong (the reference server schedules the next ping when the pong arrives).
    private long _heartbeatAnchor;
    private bool _pingSent;
    private long _closeDeadline;

    public EngineSession(EngineIOServer server, string id, string transportName, EngineRequestInfo request, ServerWebSocket? webSocket)
    {
        _server = server;
        _logger = server.Logger;
        _maxQueue = server.Options.MaxOutboundQueue;
        _maxBytes = server.Options.MaxOutboundBytes;
        Id = id;
        Request = request;
        _transportName = transportName;
        _webSocket = webSocket;
        _heartbeatAnchor = server.Now;
    }

    public override string Id { get; }

    public override string TransportName
    {
        get
        {
            lock (_lock)
            {
                return _transportName;
            }
        }
    }

    public override EngineRequestInfo Request { get; }

    public override IHeaderDictionary CurrentRequestHeaders => _currentHeaders ?? Request.Headers;

    public override bool IsConnected => _state == SessionState.Open;

    public override bool IsWritable
    {
        get
        {
            lock (_lock)
            {
                return _state == SessionState.Open && _queue.Count == 0 && !_flushing
                    && (_webSocket is not null || _pollActive);
            }
        }
    }

    public override void Close()
    {
        lock (_lock)
        {
            if (_state != SessionState.Open)
            {
                return;
            }

            _state = SessionState.Closing;
            _closeReason = EngineCloseReasons.ForcedClose;
            _closeDeadline = _server.Now + _server.ToTimestamp(_server.Options.CloseTimeout);
        }

        Signal();
    }

    /// <summary>Closes now, dropping what is queued. Idempotent; the listener hears about it once.</summary>
    internal void Abort(string reason, Exception? error = null, bool clientClosed = false)
    {
        ServerWebSocket? probe;
        bool rememberPoll;
        lock (_lock)
        {
            if (_state == SessionState.Closed)
            {
                return;
            }

            rememberPoll = clientClosed && _webSocket is null && !_pollActive;
            if (rememberPoll)
            {
                // Under the lock: a GET admitted right after it is released must already find the grace entry
                // (remembering after the release left a window where that GET answered 400 unknown sid).
                _server.RememberClientClosedPoll(Id);
            }

            _state = SessionState.Closed;
            _closeReason = reason;
            _clientClosed = clientClosed;
            _queue.Clear();
            _queuedBytes = 0;
            _queuedVolatile = 0;
            probe = _probeSocket;
            _probeSocket = null;
            _upgrade = UpgradeState.None;
            StopUpgradeCheckLocked();
        }

        // (Remembered above, before removing: a GET that misses the session must already find the grace entry.)
        _server.Remove(this);

        Volatile.Read(ref _signal)?.Writer.TryComplete();
        Signal();
        probe?.Abort();

        // Whatever the transport was doing, it gets CloseTimeout to say goodbye (flush, close handshake);
        // then the connection is dropped, so a client that stopped reading cannot hold the request forever.
        _webSocket?.AbortAfter(_server.Options.CloseTimeout, _server.Options.TimeProvider);
        EngineIOLog.SessionClosed(_logger, Id, reason, error);
        NotifyClosed(reason, error);
    }

    /// <summary>Called by the server's sweep timer: sends due pings, enforces the ping, close and upgrade deadlines.</summary>
    internal void OnTick(long now)
    {
        string? abortReason = null;
        ServerWebSocket? expiredProbe = null;
        var signal = false;
        lock (_lock)
        {
            if (_state == SessionState.Closed)
            {
                return;
            }

            if (_state == SessionState.Closing)
            {
                if (now >= _closeDeadline)
                {
                    abortReason = _closeReason;
                }
            }
            else if (now >= _heartbeatAnchor + _server.PingIntervalTicks + _server.PingTimeoutTicks)
            {
                abortReason = EngineCloseReasons.PingTimeout;
            }
            else if (!_pingSent && now >= _heartbeatAnchor + _server.PingIntervalTicks)
            {
                // Control packets ignore MaxOutboundQueue: a full queue must not stop the heartbeat.
                _pingSent = true;
                signal = _queue.Count == 0;
                _queue.Enqueue(new OutboundPacket(EnginePacketType.Ping, null, 0, false));
            }

            if (_upgrade != UpgradeState.None && now >= _upgradeDeadline)
            {
                expiredProbe = _probeSocket;
            }
        }

        if (abortReason is not null)
        {
            Abort(abortReason);
            return;
        }

        if (signal)
        {
            Signal();
        }

        if (expiredProbe is not null)
        {
            EngineIOLog.UpgradeTimedOut(_logger, Id);
            expiredProbe.Abort();
        }
    }

    /// <summary>
    /// Checked when a request names this session: a session past its pong deadline is closed right away,
    /// so that the answer does not depend on when the sweep last ran.
    /// </summary>
    internal bool IsExpired(long now)
    {
        bool expired;
        lock (_lock)
        {
            expired = _state == SessionState.Open && now >= _heartbeatAnchor + _server.PingIntervalTicks + _server.PingTimeoutTicks;
        }

        if (expired)
        {
            Abort(EngineCloseReasons.PingTimeout);
        }

        return expired || !IsConnectedOrClosing();
    }

    private bool IsConnectedOrClosing()
    {
        lock (_lock)
        {
            return _state != SessionState.Closed;
        }
    }

    /// <summary>Handles one packet from the client; returns false once the session is closed.</summary>
    internal bool OnPacket(EnginePacketType type, ReadOnlySpan<byte> data, bool isBinary)
    {
        switch (type)
        {
            case EnginePacketType.Message:
                if (!IsConnected)
                {
                    return false;
                }

                var listener = Listener;
                if (listener is not null)
                {
                    try
                    {
                        listener.OnMessage(this, data, isBinary);
                    }
                    catch (Exception ex)
                    {
                        EngineIOLog.ListenerFailed(_logger, Id, ex);
                        Abort(EngineCloseReasons.TransportError, ex);
                        return false;
                    }
                }

                return IsConnected;

            case EnginePacketType.Pong:
                lock (_lock)
                {
                    _heartbeatAnchor = _server.Now;
                    _pingSent = false;
                }

                return true;

            case EnginePacketType.Close:
                Abort(EngineCloseReasons.TransportClose, clientClosed: true);
                return false;

            case EnginePacketType.Ping:
                // v4 reversed the heartbeat: a ping from the client (other than an upgrade probe) is a protocol error.
                Abort(EngineCloseReasons.TransportError, new InvalidDataException("Invalid heartbeat direction."));
                return false;

            default:
                // open, upgrade and noop carry nothing once the session is established.
                return true;
        }
    }

    /// <summary>Wakes whoever transports the queue: the WebSocket drain (scheduled if it is not) or a waiting polling GET.</summary>
    private void Signal()
    {
        var schedule = false;
        lock (_lock)
        {
            if (_writer is not null && !_drainScheduled)
            {
                _drainScheduled = true;
                schedule = true;
            }
        }

        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        Volatile.Read(ref _signal)?.Writer.TryWrite(true);
    }

    /// <summary>
    /// The polling GET's wake-up channel, created on first use. A waiter gets it <b>before</b> checking the
    /// queue under the lock, so a <see cref="Signal"/> that found no channel happened before that check.
    /// </summary>
    private Channel<bool> GetSignal()
    {
        var signal = Volatile.Read(ref _signal);
        if (signal is not null)
        {
            return signal;
        }

        signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = false,
            SingleWriter = false,
        });
        signal = Interlocked.CompareExchange(ref _signal, signal, null) ?? signal;
        if (_state == SessionState.Closed)
        {
            signal.Writer.TryComplete();
        }

        return signal;
    }

    private static async ValueTask WaitForSignalAsync(Channel<bool> signal, CancellationToken cancellationToken)
    {
        if (await signal.Reader.WaitToReadAsync(cancellationToken))
        {
            signal.Reader.TryRead(out _);
        }
    }

    /// <summary>Takes everything queued (under the lock) into a pooled array; it counts as in flight until <see cref="EndInFlightLocked"/>.</summary>
    private OutboundPacket[] TakeQueuedLocked(out int count)
    {
        count = _queue.Count;
        _inFlightMessages = count;
        _inFlightBytes = _queuedBytes;
        _queuedBytes = 0;
        _queuedVolatile = 0;
        var batch = System.Buffers.ArrayPool<OutboundPacket>.Shared.Rent(Math.Max(count, 1));
        for (var i = 0; i < count; i++)
        {
            batch[i] = _queue.Dequeue();
        }

        return batch;
    }

    private static void ReturnBatch(OutboundPacket[] batch, int count)
    {
        Array.Clear(batch, 0, count);
        System.Buffers.ArrayPool<OutboundPacket>.Shared.Return(batch);
    }

    private void NotifyClosed(string reason, Exception? error)
    {
        if (Interlocked.Exchange(ref _listenerNotified, 1) != 0)
        {
            return;
        }

        try
        {
            Listener?.OnClose(this, reason, error);
        }
        catch (Exception ex)
        {
            EngineIOLog.ListenerFailed(_logger, Id, ex);
        }
    }

    private enum SessionState
    {
        Open,
        Closing,
        Closed,
    }

    private enum UpgradeState
    {
        None,
        Probing,
        Probed,
    }

    /// <summary>
    /// A queued packet: a message, or a control packet (ping) when <see cref="Message"/> is null. <see cref="Size"/>
    /// is what it counts against <see cref="EngineIOOptions.MaxOutboundBytes"/>.
    /// </summary>
    private readonly record struct OutboundPacket(EnginePacketType Type, EngineMessage? Message, int Size, bool IsVolatile);
}

/// <summary>The close reasons an <see cref="IEngineConnectionListener"/> sees (the reference server's strings).</summary>
public static class EngineCloseReasons
{
    /// <summary>The client closed the transport (or sent a close packet).</summary>
    public const string TransportClose = "transport close";

    /// <summary>The transport failed (I/O error, protocol violation, oversize message, overlapping requests).</summary>
    public const string TransportError = "transport error";

    /// <summary>No pong within the ping timeout.</summary>
    public const string PingTimeout = "ping timeout";

    /// <summary>The client sent a malformed packet.</summary>
    public const string ParseError = "parse error";

    /// <summary>The server closed the session (<see cref="EngineConnection.Close"/>).</summary>
    public const string ForcedClose = "forced close";

    /// <summary>The server is stopping.</summary>
    public const string ServerShuttingDown = "server shutting down";
}
