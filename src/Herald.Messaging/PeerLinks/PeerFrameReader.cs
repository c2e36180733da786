using System.Buffers;
using System.Net.WebSockets;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// Reads whole WebSocket messages into one pooled buffer reused from message to message (grown on demand,
/// never beyond the limit), so a long-lived link allocates nothing per received frame.
/// </summary>
internal sealed class PeerFrameReader(int maxMessageSize) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);

    /// <summary>The outcome of <see cref="ReadAsync"/>.</summary>
    public enum Result
    {
        Message,
        Closed,
        TooLarge,
    }

    public WebSocketMessageType MessageType { get; private set; }

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Message => _buffer.AsMemory(0, Length);

    public async ValueTask<Result> ReadAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        Length = 0;
        while (true)
        {
            if (Length == _buffer.Length)
            {
                if (_buffer.Length >= maxMessageSize)
                {
                    return Result.TooLarge;
                }

                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(maxMessageSize, _buffer.Length * 2));
                _buffer.AsSpan(0, Length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }

            var room = Math.Min(_buffer.Length, maxMessageSize) - Length;
            if (room <= 0)
            {
                return Result.TooLarge;
            }

            var result = await socket.ReceiveAsync(_buffer.AsMemory(Length, room), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return Result.Closed;
            }

            Length += result.Count;
            if (result.EndOfMessage)
            {
                MessageType = result.MessageType;
                return Result.Message;
            }
        }
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
