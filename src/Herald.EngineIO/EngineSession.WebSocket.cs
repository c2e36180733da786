using System.Buffers;
using System.Net.WebSockets;
using Herald.Protocol.EngineIO;

namespace Herald.EngineIO;

/// <summary>
/// The WebSocket transport: one frame per packet, a receive loop that holds no buffer while idle (zero-byte
/// reads), and one writer loop that drains the queue in batches. Also the upgrade from polling
/// (<c>2probe</c> → <c>3probe</c>, pending poll answered <c>6</c>, then <c>5</c>).
/// </summary>
internal sealed partial class EngineSession
{
    private static readonly byte[] s_ping = "2"u8.ToArray();
    private static readonly byte[] s_close = "1"u8.ToArray();
    private static readonly byte[] s_noop = "6"u8.ToArray();
    private static readonly byte[] s_pongProbe = "3probe"u8.ToArray();
    private static readonly byte[] s_ok = "ok"u8.ToArray();

    private UpgradeState _upgrade;
    private WebSocket? _probeSocket;
    private long _upgradeDeadline;

    /// <summary>Runs the session over <paramref name="webSocket"/> until it closes (the WebSocket request lasts that long).</summary>
    internal async Task RunWebSocketAsync(WebSocket webSocket, CancellationToken requestAborted)
    {
        var receiving = ReceiveLoopAsync(webSocket, requestAborted);
        await WriteLoopAsync(webSocket);

        // The session is closed and our close frame sent: give the client CloseTimeout to answer it.
        if (!receiving.IsCompleted)
        {
            try
            {
                await receiving.WaitAsync(_server.Options.CloseTimeout);
            }
            catch (TimeoutException)
            {
                webSocket.Abort();
            }
        }

        await receiving;
    }

    /// <summary>
    /// A WebSocket opened with the sid of a polling session: the upgrade. Returns once the WebSocket ends,
    /// either as the session's transport or as a failed probe (the session then goes on polling).
    /// </summary>
    internal async Task RunUpgradeAsync(WebSocket webSocket, CancellationToken requestAborted)
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
            await CloseQuietlyAsync(webSocket, WebSocketCloseStatus.PolicyViolation);
            return;
        }

        var upgraded = false;
        try
        {
            while (!upgraded)
            {
                var frame = await ReceiveFrameAsync(webSocket, _server.Options.MaxHttpBufferSize, requestAborted);
                if (frame.Kind != FrameKind.Message)
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
                        await webSocket.SendAsync(s_pongProbe, WebSocketMessageType.Text, endOfMessage: true, requestAborted);
                        lock (_lock)
                        {
                            if (_upgrade == UpgradeState.Probing && ReferenceEquals(_probeSocket, webSocket))
                            {
                                _upgrade = UpgradeState.Probed;
                            }
                        }

                        // Wakes a pending GET, which answers the noop.
                        Signal();
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
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
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
                }
            }

            await CloseQuietlyAsync(webSocket, WebSocketCloseStatus.NormalClosure);
            return;
        }

        EngineIOLog.Upgraded(_logger, Id);
        Signal();
        await RunWebSocketAsync(webSocket, requestAborted);
    }

    private async Task ReceiveLoopAsync(WebSocket webSocket, CancellationToken requestAborted)
    {
        try
        {
            while (true)
            {
                var frame = await ReceiveFrameAsync(webSocket, _server.Options.MaxHttpBufferSize, requestAborted);
                if (frame.Kind == FrameKind.Closed)
                {
                    Abort(EngineCloseReasons.TransportClose);
                    return;
                }

                if (frame.Kind == FrameKind.TooBig)
                {
                    EngineIOLog.PayloadTooLarge(_logger, Id, _server.Options.MaxHttpBufferSize + 1L);
                    Abort(EngineCloseReasons.TransportError, new InvalidDataException("WebSocket message larger than maxPayload."));
                    await CloseQuietlyAsync(webSocket, WebSocketCloseStatus.MessageTooBig);
                    return;
                }

                try
                {
                    if (!EnginePacketParser.TryParseFrame(frame.Span, frame.IsBinary, out var type, out var data))
                    {
                        Abort(EngineCloseReasons.ParseError, new InvalidDataException("Malformed Engine.IO packet."));
                        return;
                    }

                    if (!OnPacket(type, data, frame.IsBinary))
                    {
                        return;
                    }
                }
                finally
                {
                    frame.Return();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort(EngineCloseReasons.TransportClose, ex);
        }
        finally
        {
            // Whatever ended the loop ends the session (idempotent when it is already closed).
            Abort(EngineCloseReasons.TransportClose);
        }
    }

    private async Task WriteLoopAsync(WebSocket webSocket)
    {
        try
        {
            while (true)
            {
                OutboundPacket[]? batch = null;
                var count = 0;
                var finishClose = false;
                lock (_lock)
                {
                    if (_state == SessionState.Closed)
                    {
                        break;
                    }

                    if (_queue.Count > 0)
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
                    }
                }

                if (finishClose)
                {
                    Abort(_closeReason);
                    break;
                }

                if (batch is null)
                {
                    await WaitForSignalAsync(CancellationToken.None);
                    continue;
                }

                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        var packet = batch[i];
                        if (packet.Message is { } message)
                        {
                            await webSocket.SendAsync(message.Payload, message.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text,
                                endOfMessage: true, CancellationToken.None);
                        }
                        else
                        {
                            await webSocket.SendAsync(packet.Type == EnginePacketType.Ping ? s_ping : s_noop, WebSocketMessageType.Text,
                                endOfMessage: true, CancellationToken.None);
                        }
                    }
                }
                finally
                {
                    ReturnBatch(batch, count);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort(EngineCloseReasons.TransportError, ex);
            webSocket.Abort();
            return;
        }

        await CloseQuietlyAsync(webSocket, WebSocketCloseStatus.NormalClosure);
    }

    private async Task CloseQuietlyAsync(WebSocket webSocket, WebSocketCloseStatus status)
    {
        if (webSocket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_server.Options.CloseTimeout);
        try
        {
            await webSocket.CloseOutputAsync(status, null, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            webSocket.Abort();
        }
    }

    /// <summary>
    /// Reads one whole message. The first read has no buffer (an idle connection holds none); the message is
    /// then read into a pooled buffer that grows up to <paramref name="maxSize"/>.
    /// </summary>
    private static async ValueTask<ReceivedFrame> ReceiveFrameAsync(WebSocket webSocket, int maxSize, CancellationToken cancellationToken)
    {
        var first = await webSocket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return new ReceivedFrame(FrameKind.Closed, false, null, 0);
        }

        var isBinary = first.MessageType == WebSocketMessageType.Binary;
        if (first.EndOfMessage)
        {
            return new ReceivedFrame(FrameKind.Message, isBinary, null, 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, maxSize + 1));
        var count = 0;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    if (count > maxSize)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return new ReceivedFrame(FrameKind.TooBig, isBinary, null, 0);
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxSize + 1L));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var result = await webSocket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new ReceivedFrame(FrameKind.Closed, false, null, 0);
                }

                count += result.Count;
                if (count > maxSize)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new ReceivedFrame(FrameKind.TooBig, isBinary, null, 0);
                }

                if (result.EndOfMessage)
                {
                    return new ReceivedFrame(FrameKind.Message, isBinary, buffer, count);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private enum FrameKind
    {
        Message,
        Closed,
        TooBig,
    }

    private readonly struct ReceivedFrame(FrameKind kind, bool isBinary, byte[]? buffer, int length)
    {
        public FrameKind Kind { get; } = kind;

        public bool IsBinary { get; } = isBinary;

        public ReadOnlySpan<byte> Span => buffer is null ? default : buffer.AsSpan(0, length);

        public void Return()
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
