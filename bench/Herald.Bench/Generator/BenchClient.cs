using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Bench.Generator;

/// <summary>Receives the deliveries ("msg" payloads) of every client of a scenario.</summary>
internal interface IDeliverySink
{
    void OnDelivery(BenchClient client, ReadOnlySpan<byte> payload);
}

/// <summary>
/// A minimal RFC 6455 client over a raw <see cref="Socket"/>, cheap enough that the generator's own
/// cost does not dominate: frames are built in pooled buffers with a zero masking key (the frame is
/// still "masked" as the RFC requires of clients, but XOR with zero leaves the bytes as they are), and
/// idle connections hold no receive buffer (a zero-byte read waits for data, then a pooled buffer is
/// rented and returned as soon as it is drained). Subclasses speak the application protocol.
/// </summary>
internal abstract class BenchClient : DeliveryCounters
{
    private const int MaxHeader = 14;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _joined;
    private byte[]? _buffer;
    private int _count;
    private ArrayBufferWriter<byte>? _fragments;
    private Task _receiveLoop = Task.CompletedTask;
    private volatile bool _closing;
    private string _room = "bench";
    private byte[] _roomBytes = "bench"u8.ToArray();

    protected BenchClient(Socket socket, int index)
    {
        _socket = socket;
        Index = index;
    }

    public int Index { get; }

    public string Room { get; set; } = "bench";

    public IDeliverySink? Sink { get; set; }

    public bool Closed { get; private set; }

    public string? CloseReason { get; private set; }

    public static Task<BenchClient> ConnectAsync(
        bool signalR, IPEndPoint server, IPAddress? source, int index, CancellationToken cancellationToken)
        => ConnectAsync(server, source, signalR ? "/hub" : "/socket.io/?EIO=4&transport=websocket",
            signalR ? static (s, i) => new SignalRBenchClient(s, i) : static (s, i) => new SocketIOBenchClient(s, i), index, cancellationToken);

    /// <summary>Opens a WebSocket to <paramref name="path"/> and hands it to the client <paramref name="create"/> makes.</summary>
    public static async Task<BenchClient> ConnectAsync(IPEndPoint server, IPAddress? source, string path,
        Func<Socket, int, BenchClient> create, int index, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                // IP_BIND_ADDRESS_NO_PORT (SOL_IP 24): pick the port at connect() on the full 4-tuple, so
                // each extra loopback source address adds a whole ephemeral range.
                socket.SetRawSocketOption(0, 24, [1, 0, 0, 0]);
                socket.Bind(new IPEndPoint(source, 0));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StepTimeout);
            await socket.ConnectAsync(server, timeout.Token);
            var (leftover, leftoverCount) = await UpgradeAsync(socket, server, path, timeout.Token);
            BenchClient client = create(socket, index);
            client._buffer = leftover;
            client._count = leftoverCount;
            client._receiveLoop = client.ReceiveLoopAsync();
            await client.OnOpenAsync();
            await client._ready.Task.WaitAsync(timeout.Token);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task JoinAsync(string room)
    {
        Room = room;
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _joined = joined;
        await SendJoinAsync(room);
        await joined.Task.WaitAsync(StepTimeout);
    }

    /// <summary>Sends a "pub" of <paramref name="payload"/> to <paramref name="room"/>.</summary>
    public abstract ValueTask PublishAsync(string room, ReadOnlySpan<byte> payload);

    public async Task CloseAsync()
    {
        _closing = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
        await _receiveLoop.ConfigureAwait(false);
    }

    protected abstract ValueTask OnOpenAsync();

    protected abstract ValueTask SendJoinAsync(string room);

    /// <summary>One complete WebSocket text message.</summary>
    protected abstract void OnMessage(ReadOnlySpan<byte> message);

    /// <summary>UTF-8 of the room name, cached for the last room used (a client publishes to one room).</summary>
    protected byte[] RoomBytes(string room)
    {
        if (!ReferenceEquals(room, _room) && room != _room)
        {
            _roomBytes = Encoding.UTF8.GetBytes(room);
            _room = room;
        }

        return _roomBytes;
    }

    protected void SetReady() => _ready.TrySetResult();

    protected void SetJoined() => _joined?.TrySetResult();

    protected void Fail(string reason)
    {
        CloseReason ??= reason;
        _ready.TrySetException(new IOException(reason));
        _joined?.TrySetException(new IOException(reason));
    }

    /// <summary>Sends one text frame; the parts are concatenated (no intermediate string).</summary>
    protected ValueTask SendTextAsync(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default, ReadOnlySpan<byte> c = default,
        ReadOnlySpan<byte> d = default, ReadOnlySpan<byte> e = default)
    {
        int length = a.Length + b.Length + c.Length + d.Length + e.Length;
        byte[] frame = ArrayPool<byte>.Shared.Rent(length + MaxHeader);
        int h = WriteHeader(frame, 0x81, length);
        var body = frame.AsSpan(h);
        a.CopyTo(body);
        b.CopyTo(body[a.Length..]);
        c.CopyTo(body[(a.Length + b.Length)..]);
        d.CopyTo(body[(a.Length + b.Length + c.Length)..]);
        e.CopyTo(body[(length - e.Length)..]);
        return SendFrameAsync(frame, h + length);
    }

    protected ValueTask SendTextAsync(string text) => SendTextAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one binary frame (a Socket.IO binary attachment).</summary>
    protected ValueTask SendBinaryAsync(ReadOnlySpan<byte> data)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(data.Length + MaxHeader);
        int h = WriteHeader(frame, 0x82, data.Length);
        data.CopyTo(frame.AsSpan(h));
        return SendFrameAsync(frame, h + data.Length);
    }

    private async ValueTask SendFrameAsync(byte[] rented, int length)
    {
        await _sendLock.WaitAsync();
        try
        {
            int sent = 0;
            while (sent < length)
            {
                sent += await _socket.SendAsync(rented.AsMemory(sent, length - sent), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Fail("send failed: " + e.Message);
        }
        finally
        {
            _sendLock.Release();
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Client frame header: FIN + opcode, MASK bit with a zero key, 7/16/64-bit length.</summary>
    private static int WriteHeader(Span<byte> frame, byte first, int length)
    {
        frame[0] = first;
        int pos;
        if (length < 126)
        {
            frame[1] = (byte)(0x80 | length);
            pos = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)length);
            pos = 4;
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)length);
            pos = 10;
        }

        frame.Slice(pos, 4).Clear();
        return pos + 4;
    }

    private static async Task<(byte[] Buffer, int Count)> UpgradeAsync(Socket socket, IPEndPoint server, string path, CancellationToken ct)
    {
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        byte[] request = Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, ct);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        int count = 0;
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None, ct);
            if (n == 0)
            {
                throw new IOException("connection closed during the WebSocket upgrade");
            }

            count += n;
            int end = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                if (!buffer.AsSpan(0, count).StartsWith("HTTP/1.1 101"u8))
                {
                    string head = Encoding.ASCII.GetString(buffer, 0, Math.Min(count, 200));
                    throw new IOException("WebSocket upgrade refused: " + head.Split('\r')[0]);
                }

                int rest = count - (end + 4);
                Buffer.BlockCopy(buffer, end + 4, buffer, 0, rest);
                return (buffer, rest);
            }

            if (count == buffer.Length)
            {
                throw new IOException("upgrade response too large");
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                if (_count > 0 && _buffer is not null)
                {
                    int consumed = ParseFrames(_buffer.AsSpan(0, _count));
                    if (consumed > 0)
                    {
                        Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _count - consumed);
                        _count -= consumed;
                    }
                }

                if (_count == 0)
                {
                    if (_buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(_buffer);
                        _buffer = null;
                    }

                    // Idle: wait for data without holding a buffer.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    _buffer = ArrayPool<byte>.Shared.Rent(4096);
                }
                else if (_count == _buffer!.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                    Buffer.BlockCopy(_buffer, 0, bigger, 0, _count);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = bigger;
                }

                int n = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None);
                if (n == 0)
                {
                    Fail("closed by server");
                    break;
                }

                _count += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Fail(_closing ? "closed by client" : "receive failed: " + e.Message);
        }
        catch (Exception e)
        {
            Fail("receive loop error: " + e);
        }
        finally
        {
            Closed = true;
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }

    /// <summary>Parses every complete server frame (unmasked); returns the bytes consumed.</summary>
    private int ParseFrames(ReadOnlySpan<byte> data)
    {
        int consumed = 0;
        while (data.Length - consumed >= 2)
        {
            var span = data[consumed..];
            bool fin = (span[0] & 0x80) != 0;
            int opcode = span[0] & 0x0F;
            long len = span[1] & 0x7F;
            int pos = 2;
            if (len == 126)
            {
                if (span.Length < 4)
                {
                    break;
                }

                len = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                pos = 4;
            }
            else if (len == 127)
            {
                if (span.Length < 10)
                {
                    break;
                }

                len = (long)BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
                pos = 10;
            }

            if ((span[1] & 0x80) != 0 || len > 64 << 20)
            {
                throw new IOException("bad server frame");
            }

            if (span.Length < pos + len)
            {
                break;
            }

            var payload = span.Slice(pos, (int)len);
            consumed += pos + (int)len;
            switch (opcode)
            {
                case 0 or 1 or 2:
                    if (fin && _fragments is null)
                    {
                        OnMessage(payload);
                    }
                    else
                    {
                        _fragments ??= new ArrayBufferWriter<byte>();
                        _fragments.Write(payload);
                        if (fin)
                        {
                            OnMessage(_fragments.WrittenSpan);
                            _fragments = null;
                        }
                    }

                    break;
                case 8:
                    Fail("close frame from server");
                    break;
                case 9:
                    byte[] pong = ArrayPool<byte>.Shared.Rent(payload.Length + MaxHeader);
                    int h = WriteHeader(pong, 0x8A, payload.Length);
                    payload.CopyTo(pong.AsSpan(h));
                    _ = SendFrameAsync(pong, h + payload.Length);
                    break;
            }
        }

        return consumed;
    }
}
