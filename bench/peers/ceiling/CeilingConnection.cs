using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Herald.Bench.Peers.Ceiling;

/// <summary>
/// One upgraded connection. Reads masked client frames from the request pipe; writes server frames
/// (unmasked) to a pipe over the upgraded stream, from a drain that coalesces queued frames (see
/// <see cref="Send"/>). No per-connection timer, no heartbeat: the
/// generator does not need one and the ceiling should do no work the benchmark does not ask for.
/// </summary>
internal sealed class CeilingConnection : IThreadPoolWorkItem
{
    private const int MaxFrame = 1 << 20;
    private const int MaxPending = 100_000;

    private readonly CeilingHub _hub;
    private readonly string _sid;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Action _abort;
    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _pending = new();
    private bool _scheduled;
    private bool _faulted;

    public CeilingConnection(CeilingHub hub, string sid, PipeReader reader, PipeWriter writer, Action abort)
    {
        _hub = hub;
        _sid = sid;
        _reader = reader;
        _writer = writer;
        _abort = abort;
    }

    public List<string> Rooms { get; } = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Engine.IO v4 open packet; upgrades empty because this is already the WebSocket.
        Send(BuildFrame(Encoding.UTF8.GetBytes(
            $"0{{\"sid\":\"{_sid}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}")));
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                bool close = false;
                try
                {
                    while (!close && TryReadFrame(ref buffer, out int opcode, out byte[]? payload, out int length))
                    {
                        try
                        {
                            close = opcode == 8 || (opcode == 1 && !OnText(payload.AsSpan(0, length)));
                        }
                        finally
                        {
                            if (payload is not null)
                            {
                                ArrayPool<byte>.Shared.Return(payload);
                            }
                        }
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (close || result.IsCompleted || _faulted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            _abort();
        }
    }

    /// <summary>
    /// Queues one complete frame (the same array may be shared by every member of a room) and, if no
    /// drain is scheduled, schedules one. The drain runs on the thread pool after the broadcast loop
    /// has moved on, so every frame queued meanwhile goes out in one write + flush: under load a
    /// connection gets a batch per syscall, idle it costs nothing.
    /// </summary>
    public void Send(byte[] frame)
    {
        lock (_gate)
        {
            if (_faulted)
            {
                return;
            }

            if (_pending.Count >= MaxPending)
            {
                _faulted = true;
                _abort();
                return;
            }

            _pending.Enqueue(frame);
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_pending.Count == 0 || _faulted)
                    {
                        _scheduled = false;
                        return;
                    }

                    while (_pending.TryDequeue(out var frame))
                    {
                        _writer.Write(frame);
                    }
                }

                var result = await _writer.FlushAsync();
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        lock (_gate)
        {
            _faulted = true;
            _scheduled = false;
            _pending.Clear();
        }
    }

    /// <summary>Handles one Engine.IO text packet; false to close.</summary>
    private bool OnText(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return true;
        }

        switch (text[0])
        {
            case (byte)'1':
                return false;
            case (byte)'3':
            case (byte)'2':
                return true;
            case (byte)'4':
                if (text.Length >= 2 && text[1] == (byte)'0')
                {
                    Send(BuildFrame(Encoding.UTF8.GetBytes($"40{{\"sid\":\"{_sid}s\"}}")));
                    return true;
                }

                if (text.Length >= 2 && text[1] == (byte)'2')
                {
                    OnEvent(text[2..]);
                    return true;
                }

                return text.Length >= 2 && text[1] != (byte)'1';
            default:
                return true;
        }
    }

    /// <summary>
    /// <c>[ackId]["join","room"]</c> → join then <c>43[ackId][]</c>;
    /// <c>["pub","room",payload]</c> → <c>42["msg",payload]</c> to the room, payload copied verbatim.
    /// </summary>
    private void OnEvent(ReadOnlySpan<byte> text)
    {
        int digits = 0;
        while (digits < text.Length && (uint)(text[digits] - '0') <= 9)
        {
            digits++;
        }

        var ackId = text[..digits];
        var json = text[digits..];
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray
            || !reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            throw new InvalidDataException("bad event");
        }

        bool join = reader.ValueTextEquals("join"u8);
        bool pub = !join && reader.ValueTextEquals("pub"u8);
        if ((!join && !pub) || !reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            return;
        }

        string room = reader.GetString()!;
        if (join)
        {
            Rooms.Add(room);
            _hub.Join(room, this);
            if (!ackId.IsEmpty)
            {
                var ack = new byte[ackId.Length + 4];
                "43"u8.CopyTo(ack);
                ackId.CopyTo(ack.AsSpan(2));
                "[]"u8.CopyTo(ack.AsSpan(2 + ackId.Length));
                Send(BuildFrame(ack));
            }

            return;
        }

        if (!reader.Read())
        {
            return;
        }

        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        int end = (int)reader.BytesConsumed;
        var raw = json[start..end];
        ReadOnlySpan<byte> prefix = "42[\"msg\","u8;
        int length = prefix.Length + raw.Length + 1;
        var frame = new byte[HeaderLength(length) + length];
        int h = WriteHeader(frame, length);
        prefix.CopyTo(frame.AsSpan(h));
        raw.CopyTo(frame.AsSpan(h + prefix.Length));
        frame[^1] = (byte)']';
        _hub.Publish(room, frame);
    }

    private static byte[] BuildFrame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength(payload.Length) + payload.Length];
        payload.CopyTo(frame.AsSpan(WriteHeader(frame, payload.Length)));
        return frame;
    }

    private static int HeaderLength(int length) => length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;

    /// <summary>Server text frame header: FIN + opcode 1, no mask, 7/16/64-bit length.</summary>
    private static int WriteHeader(Span<byte> frame, int length)
    {
        frame[0] = 0x81;
        if (length < 126)
        {
            frame[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            frame[1] = 126;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)length);
            return 4;
        }

        frame[1] = 127;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)length);
        return 10;
    }

    /// <summary>
    /// Reads one complete client frame (RFC 6455 §5.2; clients always mask). Fragmented messages are
    /// not expected from the generator and are treated as bad input.
    /// </summary>
    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out int opcode, out byte[]? payload, out int length)
    {
        opcode = 0;
        payload = null;
        length = 0;
        if (buffer.Length < 2)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[14];
        int available = (int)Math.Min(14, buffer.Length);
        buffer.Slice(0, available).CopyTo(header);
        bool fin = (header[0] & 0x80) != 0;
        opcode = header[0] & 0x0F;
        bool masked = (header[1] & 0x80) != 0;
        long len = header[1] & 0x7F;
        int pos = 2;
        if (len == 126)
        {
            if (available < 4)
            {
                return false;
            }

            len = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
            pos = 4;
        }
        else if (len == 127)
        {
            if (available < 10)
            {
                return false;
            }

            len = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header[2..]);
            pos = 10;
        }

        if (!fin || !masked || len > MaxFrame || opcode is 0)
        {
            throw new InvalidDataException("unsupported frame");
        }

        if (available < pos + 4 || buffer.Length < pos + 4 + len)
        {
            return false;
        }

        Span<byte> mask = header.Slice(pos, 4);
        length = (int)len;
        payload = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        buffer.Slice(pos + 4, length).CopyTo(payload);
        for (int i = 0; i < length; i++)
        {
            payload[i] ^= mask[i & 3];
        }

        buffer = buffer.Slice(pos + 4 + length);
        return true;
    }
}
