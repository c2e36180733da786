using System.Text.Json;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

/// <summary>
/// One received event. <see cref="Args"/> live in a pooled buffer that is released when the handler (and
/// its returned task) completes: bind them with <see cref="GetArg{T}"/> or <see cref="JsonElement.Clone"/>
/// what must be kept.
/// </summary>
public sealed class SocketEvent
{
    private readonly SocketIOPacket _packet;
    private readonly ArgList _args;
    private int _acked;
    private int _refs = 1;

    internal SocketEvent(Socket socket, SocketIOPacket packet, string name)
    {
        Socket = socket;
        _packet = packet;
        Name = name;
        _args = new ArgList(packet.Data);
    }

    /// <summary>The socket that received the event.</summary>
    public Socket Socket { get; }

    /// <summary>The event name (a numeric name is given as its decimal text).</summary>
    public string Name { get; }

    /// <summary>The arguments after the name, as JSON (binary placeholders left as JSON).</summary>
    public IReadOnlyList<JsonElement> Args => _args;

    /// <summary>The binary attachments that the placeholders of <see cref="Args"/> reference.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments => _packet.Attachments;

    /// <summary>Whether the client asked for an acknowledgement.</summary>
    public bool HasAck => _packet.HasId;

    /// <summary>The ack id, -1 when none.</summary>
    public long AckId => _packet.Id;

    /// <summary>Binds argument <paramref name="index"/>; binary placeholders become <c>byte[]</c>/<see cref="ReadOnlyMemory{T}"/>. Default when absent.</summary>
    public T? GetArg<T>(int index)
        => (uint)index < (uint)_args.Count ? SocketIOJson.Deserialize<T>(_args[index], _packet.Attachments, Socket.Namespace.Server.JsonOptions) : default;

    /// <summary>Binds argument <paramref name="index"/> to <paramref name="type"/>.</summary>
    public object? GetArg(int index, Type type)
        => (uint)index < (uint)_args.Count ? SocketIOJson.Deserialize(_args[index], type, _packet.Attachments, Socket.Namespace.Server.JsonOptions) : null;

    /// <summary>
    /// The arguments as values that <see cref="Socket.Emit"/> or <see cref="Ack"/> re-encode unchanged,
    /// binary attachments included (to relay an event). Use them before the handler returns.
    /// </summary>
    public object?[] GetRelayArgs()
    {
        var result = new object?[_args.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _packet.AttachmentCount == 0 ? _args[i] : new RawJsonArgument(_args[i], _packet.Attachments);
        }

        return result;
    }

    /// <summary>Sends the acknowledgement (ACK, or BINARY_ACK when an argument holds bytes); only the first call counts, none without <see cref="HasAck"/>.</summary>
    public void Ack(params ReadOnlySpan<object?> args)
    {
        if (!_packet.HasId || Interlocked.Exchange(ref _acked, 1) != 0)
        {
            return;
        }

        Socket.SendAck(_packet.Id, args);
    }

    internal AckCallback AckCallback => Ack;

    internal void AddRef() => Interlocked.Increment(ref _refs);

    /// <summary>Releases the packet when the last holder (dispatch, async handlers) is done.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            _packet.Dispose();
        }
    }

    private sealed class ArgList(JsonElement root) : IReadOnlyList<JsonElement>
    {
        public int Count { get; } = root.GetArrayLength() - 1;

        public JsonElement this[int index] => (uint)index < (uint)Count ? root[index + 1] : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<JsonElement> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return root[i + 1];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
