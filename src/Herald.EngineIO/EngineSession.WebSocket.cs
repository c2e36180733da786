using System.Buffers;
using System.Buffers.Text;
using Herald.EngineIO.WebSockets;
using Herald.Protocol.EngineIO;
using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>
/// The WebSocket transport: one frame per packet, a receive loop that holds no buffer while idle (zero-byte
/// reads), and one writer loop that drains the queue in batches: every frame queued is copied into one
/// buffer and written with one flush, and a message's frame is built once and shared by every connection
/// it is sent to (<see cref="WebSocketFrames.GetFrame"/>). Also the upgrade from polling
/// (<c>2probe</c> → <c>3probe</c>, pending poll answered <c>6</c>, then <c>5</c>).
/// </summary>
internal sealed partial class EngineSession
{
    private static readonly byte[] s_ping = "2"u8.ToArray();
    private static readonly byte[] s_close = "1"u8.ToArray();
    private static readonly byte[] s_noop = "6"u8.ToArray();
    private static readonly byte[] s_ok = "ok"u8.ToArray();
    private static readonly byte[] s_pingFrame = WebSocketFrames.Build(WebSocketFrames.OpText, "2"u8);
    private static readonly byte[] s_noopFrame = WebSocketFrames.Build(WebSocketFrames.OpText, "6"u8);
    private static readonly byte[] s_pongProbeFrame = WebSocketFrames.Build(WebSocketFrames.OpText, "3probe"u8);

    // A batch bigger than this is written in several chunks (each one flush) rather than one big rented buffer.
    private const int MaxWriteChunk = 64 * 1024;

    // Engine.IO's upgrade check: after a successful probe, a noop ends the waiting GET on the next tick of this
    // period (the reference server's upgrade-check interval), not at once, so that a packet queued meanwhile
    // still goes out on that GET as it does on Node.
    private static readonly TimeSpan s_upgradeCheckInterval = TimeSpan.FromMilliseconds(100);

    private UpgradeState _upgrade;
    private ServerWebSocket? _probeSocket;
    private long _upgradeDeadline;
    private ITimer? _upgradeCheckTimer;
    private bool _upgradeNoopDue;

    // The client asked for base64 (b64 in the WebSocket request's query, engine.io-client's forceBase64): binary
    // messages go out as "b<base64>" text frames, as the reference server does for such a transport.
    private bool _webSocketBase64;

    /// <summary>Runs the session over <paramref name="webSocket"/> until it closes (the WebSocket request lasts that long).</summary>
    internal async Task RunWebSocketAsync(ServerWebSocket webSocket, bool base64, CancellationToken requestAborted)
    {
        // From here on, queuing a packet schedules the drain (before, the open packet had to go out first).
        lock (_lock)
        {
            _webSocketBase64 = base64;
            _writer = webSocket;
        }

        Signal();
        await ReceiveLoopAsync(webSocket, requestAborted);

        // The session is closed (the receive loop's end closes it): let the drain finish its last write and
        // the close frame before the request ends; Abort already bounded that by CloseTimeout.
        Task? draining = null;
        lock (_lock)
        {
            if (_drainScheduled)
            {
                _drainDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                draining = _drainDone.Task;
            }
        }

        if (draining is not null)
        {
            await draining;
        }
    }

    /// <summary>
    /// A WebSocket opened with the sid of a polling session: the upgrade. Returns once the WebSocket ends,
    /// either as the session's transport or as a failed probe (the session then goes on polling).
    /// </summary>
    internal async Task RunUpgradeAsync(ServerWebSocket webSocket, bool base64, IHeaderDictionary headers, CancellationToken requestAborted)
    {
        var accepted = false;
        lock (_lock)
        {
            // "A client MUST NOT open more than one WebSocket connection per session": only the newcomer is closed.
            if (_state == SessionState.Open && _transportName == EngineTransports.Polling && _upgrade == UpgradeState.None)
            {
                _upgrade = UpgradeState.Probing;
                _probeSocket = webSocket;
                _upgradeDeadline = _server.Now + _server.ToTimestamp(_server.Options.UpgradeTimeout);
                accepted = true;
            }
        }

        if (!accepted)
        {
            await CloseQuietlyAsync(webSocket, WebSocketCloseCodes.PolicyViolation);
            return;
        }

        var upgraded = false;
        try
        {
            while (!upgraded)
            {
                var frame = await webSocket.ReceiveAsync(_server.Options.MaxHttpBufferSize, requestAborted);
                if (frame.Kind != WebSocketMessageKind.Message)
                {
                    break;
                }

                try
                {
                    if (!EnginePacketParser.TryParseFrame(frame.Span, frame.IsBinary, out var type, out var data))
                    {
                        break;
                    }

                    if (type == EnginePacketType.Ping && data.SequenceEqual(EngineLiterals.Probe))
                    {
                        await webSocket.WriteAsync(s_pongProbeFrame, requestAborted);
                        lock (_lock)
                        {
                            if (_upgrade == UpgradeState.Probing && ReferenceEquals(_probeSocket, webSocket))
                            {
                                _upgrade = UpgradeState.Probed;
                                _upgradeCheckTimer?.Dispose();
                                _upgradeCheckTimer = _server.Options.TimeProvider.CreateTimer(
                                    static state => ((EngineSession)state!).OnUpgradeCheck(), this, s_upgradeCheckInterval, s_upgradeCheckInterval);
                            }
                        }
                    }
                    else if (type == EnginePacketType.Upgrade)
                    {
                        lock (_lock)
                        {
                            if (_upgrade == UpgradeState.Probed && ReferenceEquals(_probeSocket, webSocket) && _state != SessionState.Closed)
                            {
                                _transportName = EngineTransports.WebSocket;
                                _webSocket = webSocket;
                                _probeSocket = null;
                                _upgrade = UpgradeState.None;
                                StopUpgradeCheckLocked();
                                _currentHeaders = headers;
                                upgraded = true;
                            }
                        }

                        if (!upgraded)
                        {
                            break;
                        }
                    }
                    else
                    {
                        break;
                    }
                }
                finally
                {
                    frame.Return();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            EngineIOLog.UpgradeFailed(_logger, Id, ex);
        }

        if (!upgraded)
        {
            lock (_lock)
            {
                if (ReferenceEquals(_probeSocket, webSocket))
                {
                    _probeSocket = null;
                    _upgrade = UpgradeState.None;
                    StopUpgradeCheckLocked();
                }
            }

            await CloseQuietlyAsync(webSocket, WebSocketCloseCodes.NormalClosure);
            return;
        }

        EngineIOLog.Upgraded(_logger, Id);
        Signal();
        await RunWebSocketAsync(webSocket, base64, requestAborted);
    }

    /// <summary>A tick of the upgrade check: a waiting GET gets its noop (the reference server's check).</summary>
    private void OnUpgradeCheck()
    {
        lock (_lock)
        {
            if (_upgrade != UpgradeState.Probed || _state == SessionState.Closed)
            {
                return;
            }

            if (!_pollActive)
            {
                // No GET is waiting: the check writes nothing; the next tick looks again.
                return;
            }

            _upgradeNoopDue = true;
        }

        Signal();
    }

    private void StopUpgradeCheckLocked()
    {
        _upgradeCheckTimer?.Dispose();
        _upgradeCheckTimer = null;
        _upgradeNoopDue = false;
    }

    private async Task ReceiveLoopAsync(ServerWebSocket webSocket, CancellationToken requestAborted)
    {
        try
        {
            while (true)
            {
                var frame = await webSocket.ReceiveAsync(_server.Options.MaxHttpBufferSize, requestAborted);
                if (frame.Kind == WebSocketMessageKind.Closed)
                {
                    Abort(EngineCloseReasons.TransportClose);
                    return;
                }

                if (frame.Kind == WebSocketMessageKind.TooBig)
                {
                    EngineIOLog.PayloadTooLarge(_logger, Id, _server.Options.MaxHttpBufferSize + 1L);

                    // The 1009 goes out before the session closes, so the drain's normal close cannot overtake it.
                    await CloseQuietlyAsync(webSocket, WebSocketCloseCodes.MessageTooBig);
                    Abort(EngineCloseReasons.TransportError, new InvalidDataException("WebSocket message larger than maxPayload."));
                    return;
                }

                if (frame.Kind == WebSocketMessageKind.Invalid)
                {
                    // A WebSocket protocol violation; the close frame (1002 or 1007) is already sent.
                    Abort(EngineCloseReasons.TransportError, new InvalidDataException("Invalid WebSocket frame."));
                    return;
                }

                try
                {
                    bool goOn;
                    var span = frame.Span;
                    if (!frame.IsBinary && span.Length > 0 && span[0] == (byte)'b')
                    {
                        // Binary as base64 text (engine.io-client's forceBase64): the reference parser accepts it on
                        // every transport.
                        if (!TryDecodeBase64Message(span[1..], out goOn))
                        {
                            Abort(EngineCloseReasons.ParseError, new InvalidDataException("Malformed base64 Engine.IO packet."));
                            return;
                        }
                    }
                    else if (!EnginePacketParser.TryParseFrame(span, frame.IsBinary, out var type, out var data))
                    {
                        Abort(EngineCloseReasons.ParseError, new InvalidDataException("Malformed Engine.IO packet."));
                        return;
                    }
                    else
                    {
                        goOn = OnPacket(type, data, frame.IsBinary);
                    }

                    if (!goOn)
                    {
                        if (_state == SessionState.Closing)
                        {
                            // Close() was called while handling the packet: the drain sends what is queued, then
                            // the close frame (forced close); meanwhile what the client sends is read and ignored.
                            continue;
                        }

                        return;
                    }
                }
                finally
                {
                    frame.Return();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Abort(EngineCloseReasons.TransportClose, ex);
        }
        finally
        {
            // Whatever ended the loop ends the session (idempotent when it is already closed).
            Abort(EngineCloseReasons.TransportClose);
        }
    }

    /// <summary>Decodes a <c>b&lt;base64&gt;</c> message and hands it over as binary; false when the base64 is invalid.</summary>
    private bool TryDecodeBase64Message(ReadOnlySpan<byte> base64, out bool goOn)
    {
        goOn = false;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(Base64.GetMaxDecodedFromUtf8Length(base64.Length), 1));
        try
        {
            if (Base64.DecodeFromUtf8(base64, rented, out _, out var written) != OperationStatus.Done)
            {
                return false;
            }

            goOn = OnPacket(EnginePacketType.Message, rented.AsSpan(0, written), isBinary: true);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The drain, run on the thread pool (see <see cref="EngineSession"/>).</summary>
    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    /// <summary>
    /// Writes everything queued, batch after batch, until the queue is empty; then the next
    /// <see cref="Send(EngineMessage)"/> schedules it again. Completes synchronously while the socket
    /// keeps up. Once the session is closed it sends the close frame.
    /// </summary>
    private async Task DrainAsync()
    {
        var webSocket = _writer!;
        var base64 = _webSocketBase64;
        try
        {
            while (true)
            {
                OutboundPacket[]? batch = null;
                var count = 0;
                var finishClose = false;
                var closed = false;
                lock (_lock)
                {
                    // The previous batch (if any) is written: it no longer counts against the bound.
                    EndInFlightLocked();
                    if (_state == SessionState.Closed)
                    {
                        closed = true;
                    }
                    else if (_queue.Count > 0)
                    {
                        batch = TakeQueuedLocked(out count);
                        _flushing = true;
                    }
                    else if (_state == SessionState.Closing)
                    {
                        finishClose = true;
                    }
                    else
                    {
                        _flushing = false;
                        _drainScheduled = false;
                        return;
                    }
                }

                if (finishClose)
                {
                    Abort(_closeReason);
                    closed = true;
                }

                if (closed)
                {
                    await CloseQuietlyAsync(webSocket, WebSocketCloseCodes.NormalClosure);
                    break;
                }

                try
                {
                    var pending = WriteBatchAsync(webSocket, batch!, count, base64);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        await pending;
                    }
                }
                finally
                {
                    ReturnBatch(batch!, count);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Abort(EngineCloseReasons.TransportError, ex);
            webSocket.Abort();
        }

        TaskCompletionSource? done;
        lock (_lock)
        {
            _drainScheduled = false;
            _flushing = false;
            done = _drainDone;
        }

        done?.TrySetResult();
    }

    /// <summary>
    /// Writes a batch of packets: a lone frame as is (no copy), several copied into one pooled buffer and
    /// written with one flush (chunks of <see cref="MaxWriteChunk"/> for very large batches).
    /// </summary>
    private static ValueTask WriteBatchAsync(ServerWebSocket webSocket, OutboundPacket[] batch, int count, bool base64)
    {
        if (base64)
        {
            return WriteChunkedAsync(webSocket, batch, count, base64: true);
        }

        if (count == 1)
        {
            return webSocket.WriteAsync(FrameOf(batch[0]));
        }

        var total = 0L;
        for (var i = 0; i < count; i++)
        {
            total += FrameOf(batch[i]).Length;
        }

        if (total > MaxWriteChunk)
        {
            return WriteChunkedAsync(webSocket, batch, count, base64: false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)total);
        var written = 0;
        for (var i = 0; i < count; i++)
        {
            var frame = FrameOf(batch[i]);
            frame.CopyTo(buffer.AsSpan(written));
            written += frame.Length;
        }

        ValueTask write;
        try
        {
            write = webSocket.WriteAsync(buffer.AsMemory(0, written));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (write.IsCompletedSuccessfully)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return ValueTask.CompletedTask;
        }

        return ReturnAfterAsync(write, buffer);

        static async ValueTask ReturnAfterAsync(ValueTask write, byte[] buffer)
        {
            try
            {
                await write;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static async ValueTask WriteChunkedAsync(ServerWebSocket webSocket, OutboundPacket[] batch, int count, bool base64)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxWriteChunk);
        try
        {
            var written = 0;
            for (var i = 0; i < count; i++)
            {
                var frame = base64 ? Base64FrameOf(batch[i]) : FrameOf(batch[i]);
                if (written + frame.Length > buffer.Length && written > 0)
                {
                    await webSocket.WriteAsync(buffer.AsMemory(0, written));
                    written = 0;
                }

                if (frame.Length > buffer.Length)
                {
                    await webSocket.WriteAsync(frame);
                    continue;
                }

                frame.CopyTo(buffer.AsSpan(written));
                written += frame.Length;
            }

            if (written > 0)
            {
                await webSocket.WriteAsync(buffer.AsMemory(0, written));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] FrameOf(OutboundPacket packet) => packet.Message is { } message
        ? WebSocketFrames.GetFrame(message)
        : packet.Type == EnginePacketType.Ping ? s_pingFrame : s_noopFrame;

    /// <summary>
    /// A packet for a client that asked for base64: a binary message as the text frame <c>b&lt;base64&gt;</c> (its
    /// polling form, cached on the message), everything else as usual.
    /// </summary>
    private static byte[] Base64FrameOf(OutboundPacket packet) => packet.Message is { IsBinary: true }
        ? WebSocketFrames.Build(WebSocketFrames.OpText, GetPollingForm(packet).Span)
        : FrameOf(packet);

    private async Task CloseQuietlyAsync(ServerWebSocket webSocket, ushort status)
    {
        if (!webSocket.CanSendClose)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_server.Options.CloseTimeout);
        try
        {
            await webSocket.CloseOutputAsync(status, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            webSocket.Abort();
        }
    }
}
