using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Herald.EngineIO.WebSockets;

/// <summary>
/// The server side of one WebSocket (RFC 6455) over an upgraded HTTP/1.1 connection, written for the
/// Engine.IO transport instead of <see cref="System.Net.WebSockets.WebSocket"/>: the writer hands it
/// whole, pre-built frames (a broadcast's frame is built once for every connection, see
/// <see cref="WebSocketFrames.GetFrame"/>) and a batch of them goes out in one write, which is one flush.
/// </summary>
/// <remarks>
/// Reading goes through a <see cref="PipeReader"/> with zero-byte reads, so an idle connection holds no
/// receive buffer. One receiver at a time; writes (the session's writer loop, pongs and the close frame
/// from the receiver) are serialised by a one-slot semaphore taken synchronously when free.
/// </remarks>
internal sealed class ServerWebSocket : IAsyncDisposable
{
    private static readonly byte[] s_acceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    private readonly HttpContext _context;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _closeSent;
    private volatile bool _aborted;
    private volatile bool _disposed;
    private ITimer? _abortTimer;

    // A fragmented message being assembled (null between messages, so an idle connection holds nothing).
    private byte[]? _partial;
    private int _partialLength;
    private byte _partialOpcode;

    private ServerWebSocket(HttpContext context, Stream stream)
    {
        _context = context;
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
    }

    /// <summary>True while the close frame can still be sent (not sent yet, connection not aborted).</summary>
    public bool CanSendClose => Volatile.Read(ref _closeSent) == 0 && !_aborted;

    /// <summary>
    /// Whether <paramref name="context"/> is a WebSocket opening handshake we accept (RFC 6455 §4.2.1): an
    /// upgradable HTTP/1.1 GET with <c>Connection: Upgrade</c>, <c>Upgrade: websocket</c>, version 13 and a
    /// 16-byte base64 key.
    /// </summary>
    public static bool IsWebSocketRequest(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) || context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true })
        {
            return false;
        }

        var headers = request.Headers;
        if (!ContainsToken(headers.Connection, "Upgrade") || !ContainsToken(headers.Upgrade, "websocket")
            || !string.Equals(headers.SecWebSocketVersion, "13", StringComparison.Ordinal))
        {
            return false;
        }

        var key = headers.SecWebSocketKey;
        if (key.Count != 1 || key[0] is not { Length: 24 } k)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(k, decoded, out var written) && written == 16;
    }

    /// <summary>Answers 101 with <c>Sec-WebSocket-Accept</c> and takes over the connection. Call only after <see cref="IsWebSocketRequest"/>.</summary>
    public static async Task<ServerWebSocket> AcceptAsync(HttpContext context)
    {
        var upgrade = context.Features.GetRequiredFeature<IHttpUpgradeFeature>();
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = ComputeAccept(context.Request.Headers.SecWebSocketKey.ToString());
        var stream = await upgrade.UpgradeAsync();
        return new ServerWebSocket(context, stream);
    }

    /// <summary>
    /// Reads the next whole message (fragments reassembled, pings answered, pongs skipped). A message
    /// larger than <paramref name="maxSize"/> is reported before its payload is buffered.
    /// </summary>
    public async ValueTask<WebSocketMessage> ReceiveAsync(int maxSize, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                return WebSocketMessage.Closed;
            }

            var outcome = Parse(ref buffer, maxSize, out var message, out var control);
            if (outcome == ParseOutcome.NeedMore)
            {
                _reader.AdvanceTo(buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    // The peer went away without a close frame.
                    return WebSocketMessage.Closed;
                }

                continue;
            }

            // Frames after this one were not looked at: consumed == examined, so the next read returns them at once.
            _reader.AdvanceTo(buffer.Start);
            switch (outcome)
            {
                case ParseOutcome.Message:
                    return message;
                case ParseOutcome.Ping:
                    await WriteAsync(WebSocketFrames.Build(WebSocketFrames.OpPong, control), cancellationToken);
                    continue;
                case ParseOutcome.Close:
                    return WebSocketMessage.Closed;
                case ParseOutcome.TooBig:
                    return new WebSocketMessage(WebSocketMessageKind.TooBig, false, null, 0);
                case ParseOutcome.InvalidUtf8:
                    await CloseOutputAsync(WebSocketCloseCodes.InvalidPayloadData, cancellationToken);
                    return new WebSocketMessage(WebSocketMessageKind.Invalid, false, null, 0);
                default:
                    await CloseOutputAsync(WebSocketCloseCodes.ProtocolError, cancellationToken);
                    return new WebSocketMessage(WebSocketMessageKind.Invalid, false, null, 0);
            }
        }
    }

    /// <summary>Writes complete frames (one write, one flush). Completes synchronously when the lock is free and the flush does.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken = default)
    {
        if (!_writeLock.Wait(0))
        {
            return WriteContendedAsync(frames, cancellationToken);
        }

        ValueTask write;
        try
        {
            write = _stream.WriteAsync(frames, cancellationToken);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }

        if (write.IsCompletedSuccessfully)
        {
            _writeLock.Release();
            return ValueTask.CompletedTask;
        }

        return ReleaseAfterAsync(write);
    }

    /// <summary>Sends the close frame with <paramref name="status"/> once; later calls do nothing.</summary>
    public ValueTask CloseOutputAsync(ushort status, CancellationToken cancellationToken)
    {
        if (_aborted || Interlocked.Exchange(ref _closeSent, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        var frame = new byte[4];
        frame[0] = 0x80 | WebSocketFrames.OpClose;
        frame[1] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), status);
        return WriteAsync(frame, cancellationToken);
    }

    /// <summary>Drops the connection (no close handshake); pending reads and writes end.</summary>
    public void Abort()
    {
        if (_disposed)
        {
            return;
        }

        _aborted = true;
        _reader.CancelPendingRead();
        _context.Abort();
    }

    /// <summary>Aborts the connection after <paramref name="delay"/> unless it was disposed by then (the request ended).</summary>
    public void AbortAfter(TimeSpan delay, TimeProvider time)
    {
        if (_disposed || _abortTimer is not null)
        {
            return;
        }

        var timer = time.CreateTimer(static state => ((ServerWebSocket)state!).Abort(), this, delay, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _abortTimer, timer, null) is not null || _disposed)
        {
            timer.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        Interlocked.Exchange(ref _abortTimer, null)?.Dispose();
        ReturnPartial();
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private async ValueTask WriteContendedAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(frames, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Reads frames (RFC 6455 §5.2) off <paramref name="buffer"/> until a message is complete, a control
    /// frame needs an answer, or more bytes are needed; <paramref name="buffer"/> is left after the last
    /// frame consumed. Client frames must be masked; no extension is negotiated, so RSV bits must be 0.
    /// </summary>
    private ParseOutcome Parse(ref ReadOnlySequence<byte> buffer, int maxSize, out WebSocketMessage message, out byte[] control)
    {
        message = default;
        control = [];
        Span<byte> header = stackalloc byte[14];
        while (true)
        {
            if (buffer.Length < 2)
            {
                return ParseOutcome.NeedMore;
            }

            var available = (int)Math.Min(header.Length, buffer.Length);
            buffer.Slice(0, available).CopyTo(header);
            var fin = (header[0] & 0x80) != 0;
            var opcode = (byte)(header[0] & 0x0F);
            if ((header[0] & 0x70) != 0 || (header[1] & 0x80) == 0)
            {
                return ParseOutcome.ProtocolError;
            }

            long length = header[1] & 0x7F;
            var position = 2;
            if (length == 126)
            {
                if (available < 4)
                {
                    return ParseOutcome.NeedMore;
                }

                length = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
                position = 4;
            }
            else if (length == 127)
            {
                if (available < 10)
                {
                    return ParseOutcome.NeedMore;
                }

                var wide = BinaryPrimitives.ReadUInt64BigEndian(header[2..]);
                if (wide > long.MaxValue)
                {
                    return ParseOutcome.ProtocolError;
                }

                length = (long)wide;
                position = 10;
            }

            if (available < position + 4)
            {
                return ParseOutcome.NeedMore;
            }

            var mask = BinaryPrimitives.ReadUInt32LittleEndian(header[position..]);
            position += 4;

            var isControl = opcode >= WebSocketFrames.OpClose;
            if (isControl)
            {
                if (!fin || length > 125 || opcode > WebSocketFrames.OpPong)
                {
                    return ParseOutcome.ProtocolError;
                }
            }
            else if (opcode == WebSocketFrames.OpContinuation ? _partialOpcode == 0 : opcode > WebSocketFrames.OpBinary || _partialOpcode != 0)
            {
                // A continuation with no message started, a new message inside a fragmented one, or a reserved opcode.
                return ParseOutcome.ProtocolError;
            }
            else if (_partialLength + length > maxSize)
            {
                ReturnPartial();
                return ParseOutcome.TooBig;
            }

            if (buffer.Length < position + length)
            {
                return ParseOutcome.NeedMore;
            }

            var payload = buffer.Slice(position, length);
            buffer = buffer.Slice(payload.End);
            if (isControl)
            {
                Span<byte> small = stackalloc byte[125];
                var data = small[..(int)length];
                UnmaskInto(payload, data, mask);
                switch (opcode)
                {
                    case WebSocketFrames.OpPing:
                        control = data.ToArray();
                        return ParseOutcome.Ping;
                    case WebSocketFrames.OpClose:
                        // A 1-byte close body is malformed; otherwise echo nothing in particular (the session closes normally).
                        return length == 1 ? ParseOutcome.ProtocolError : ParseOutcome.Close;
                    default:
                        continue; // an unsolicited pong
                }
            }

            if (opcode != WebSocketFrames.OpContinuation)
            {
                _partialOpcode = opcode;
            }

            var needed = _partialLength + (int)length;
            if (needed > 0 && (_partial is null || _partial.Length < needed))
            {
                var bigger = ArrayPool<byte>.Shared.Rent(_partial is null ? needed : Math.Max(needed, Math.Min(_partial.Length * 2, maxSize)));
                if (_partial is not null)
                {
                    _partial.AsSpan(0, _partialLength).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(_partial);
                }

                _partial = bigger;
            }

            if (length > 0)
            {
                UnmaskInto(payload, _partial.AsSpan(_partialLength, (int)length), mask);
                _partialLength = needed;
            }

            if (!fin)
            {
                continue;
            }

            var isBinary = _partialOpcode == WebSocketFrames.OpBinary;
            var bytes = _partial;
            var count = _partialLength;
            _partial = null;
            _partialLength = 0;
            _partialOpcode = 0;
            if (!isBinary && bytes is not null && !Utf8.IsValid(bytes.AsSpan(0, count)))
            {
                ArrayPool<byte>.Shared.Return(bytes);
                return ParseOutcome.InvalidUtf8;
            }

            message = new WebSocketMessage(WebSocketMessageKind.Message, isBinary, bytes, count);
            return ParseOutcome.Message;
        }
    }

    private static void UnmaskInto(ReadOnlySequence<byte> payload, Span<byte> destination, uint mask)
    {
        if (payload.IsSingleSegment)
        {
            WebSocketFrames.Unmask(payload.FirstSpan, destination, mask, 0);
            return;
        }

        var offset = 0;
        foreach (var segment in payload)
        {
            WebSocketFrames.Unmask(segment.Span, destination[offset..], mask, offset);
            offset += segment.Length;
        }
    }

    private void ReturnPartial()
    {
        if (_partial is not null)
        {
            ArrayPool<byte>.Shared.Return(_partial);
            _partial = null;
        }

        _partialLength = 0;
        _partialOpcode = 0;
    }

    private static bool ContainsToken(Microsoft.Extensions.Primitives.StringValues values, string token)
    {
        foreach (var value in values)
        {
            var span = (value ?? string.Empty).AsSpan();
            foreach (var part in span.Split(','))
            {
                if (span[part].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static string ComputeAccept(string key)
    {
        // SHA-1 of the key and the RFC's GUID, base64 (§4.2.2 step 5.4).
        Span<byte> input = stackalloc byte[24 + 36];
        var n = Encoding.ASCII.GetBytes(key, input);
        s_acceptGuid.CopyTo(input[n..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..(n + s_acceptGuid.Length)], hash);
        return Convert.ToBase64String(hash);
    }

    private enum ParseOutcome
    {
        NeedMore,
        Message,
        Ping,
        Close,
        TooBig,
        InvalidUtf8,
        ProtocolError,
    }
}

/// <summary>What <see cref="ServerWebSocket.ReceiveAsync"/> read.</summary>
internal enum WebSocketMessageKind
{
    Message,
    Closed,
    TooBig,
    Invalid,
}

/// <summary>A received message in a pooled buffer (give it back with <see cref="Return"/>), or how reading ended.</summary>
internal readonly struct WebSocketMessage(WebSocketMessageKind kind, bool isBinary, byte[]? buffer, int length)
{
    public static WebSocketMessage Closed => new(WebSocketMessageKind.Closed, false, null, 0);

    public WebSocketMessageKind Kind { get; } = kind;

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

/// <summary>The close status codes this server sends (RFC 6455 §7.4.1).</summary>
internal static class WebSocketCloseCodes
{
    public const ushort NormalClosure = 1000;
    public const ushort ProtocolError = 1002;
    public const ushort InvalidPayloadData = 1007;
    public const ushort PolicyViolation = 1008;
    public const ushort MessageTooBig = 1009;
}
