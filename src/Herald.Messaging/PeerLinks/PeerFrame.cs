using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// One encoded WebSocket frame, shared by every queue it is placed on (a publication forwarded to several
/// links is encoded once). Binary frames live in a pooled array returned when the last queue released it.
/// </summary>
internal sealed class PeerFrame
{
    private byte[] _buffer;
    private readonly bool _pooled;
    private int _references = 1;

    private PeerFrame(byte[] buffer, int length, bool binary, bool pooled)
    {
        _buffer = buffer;
        Length = length;
        IsBinary = binary;
        _pooled = pooled;
    }

    public int Length { get; }

    public bool IsBinary { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public Span<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>A pooled binary frame of <paramref name="length"/> bytes, owned by the caller (one reference).</summary>
    public static PeerFrame RentBinary(int length) => new(ArrayPool<byte>.Shared.Rent(length), length, binary: true, pooled: true);

    /// <summary>A text (control) frame over a plain array.</summary>
    public static PeerFrame Text(byte[] json) => new(json, json.Length, binary: false, pooled: false);

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0 && _pooled)
        {
            var buffer = _buffer;
            _buffer = [];
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// A bounded queue of frames and the one loop that writes them to a WebSocket, so that writers never block
/// (a bus handler only enqueues) and frames keep their order. A full queue refuses the frame: the owner
/// decides (a session closes a peer that cannot keep up; a link drops a publication it cannot carry).
/// </summary>
internal sealed class PeerFrameSender
{
    private readonly Channel<PeerFrame> _queue;
    private readonly long _maxBytes;
    private long _queuedBytes;

    /// <summary>A queue of at most <paramref name="capacity"/> frames and <paramref name="maxBytes"/> bytes.</summary>
    /// <remarks>
    /// The byte bound counts what the queue keeps alive (frames are shared with other queues, but once those have
    /// sent them this one alone holds them). A single frame larger than the bound is still accepted when the queue is
    /// empty, so that a bound below the frame size limit cannot block a link for good.
    /// </remarks>
    public PeerFrameSender(int capacity, long maxBytes = long.MaxValue)
    {
        _maxBytes = maxBytes;
        _queue = Channel.CreateBounded<PeerFrame>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Queues <paramref name="frame"/> (taking a reference); false when the queue is full or completed.</summary>
    public bool TryEnqueue(PeerFrame frame)
    {
        var queued = Interlocked.Add(ref _queuedBytes, frame.Length);
        if (queued > _maxBytes && queued != frame.Length)
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            return false;
        }

        frame.AddReference();
        if (_queue.Writer.TryWrite(frame))
        {
            return true;
        }

        Interlocked.Add(ref _queuedBytes, -frame.Length);
        frame.Release();
        return false;
    }

    /// <summary>The bytes of the frames queued and not yet written.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Writes queued frames until <see cref="Complete"/> or the socket fails.</summary>
    public async Task RunAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    try
                    {
                        await socket.SendAsync(frame.Memory, frame.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Add(ref _queuedBytes, -frame.Length);
                        frame.Release();
                    }
                }
            }
        }
        finally
        {
            Complete();
        }
    }

    /// <summary>Stops accepting frames; those queued are still written, then the loop ends.</summary>
    public void CompleteAdding() => _queue.Writer.TryComplete();

    /// <summary>Stops accepting frames and releases those still queued.</summary>
    public void Complete()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            frame.Release();
        }
    }
}
