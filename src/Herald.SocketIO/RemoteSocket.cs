namespace Herald.SocketIO;

/// <summary>
/// A socket returned by <see cref="BroadcastOperator.FetchSocketsAsync"/>: a snapshot of its id, handshake,
/// rooms and data, with actions that go through the adapter (so they work for sockets of other nodes too).
/// </summary>
public class RemoteSocket
{
    private readonly IAdapter _adapter;

    /// <summary>Creates a snapshot of a socket living on any node.</summary>
    public RemoteSocket(IAdapter adapter, string id, Handshake? handshake, IReadOnlyCollection<string> rooms, IReadOnlyDictionary<string, object?> data)
    {
        _adapter = adapter;
        Id = id;
        Handshake = handshake;
        Rooms = rooms;
        Data = data;
    }

    /// <summary>Describes a socket of this server (<see cref="LocalSocket"/> set): what an adapter's <see cref="IAdapter.FetchSocketsAsync"/> returns for a local match.</summary>
    /// <param name="socket">The local socket.</param>
    public RemoteSocket(Socket socket)
        : this(socket.Namespace.Adapter, socket.Id, socket.Handshake, socket.Rooms, socket.DataOrNull is { } data ? new Dictionary<string, object?>(data) : new Dictionary<string, object?>())
    {
        LocalSocket = socket;
    }

    /// <summary>The socket id.</summary>
    public string Id { get; }

    /// <summary>Its handshake (null when the node that owns it did not send it).</summary>
    public Handshake? Handshake { get; }

    /// <summary>Its rooms when fetched.</summary>
    public IReadOnlyCollection<string> Rooms { get; }

    /// <summary>A copy of its <see cref="Socket.Data"/> when fetched.</summary>
    public IReadOnlyDictionary<string, object?> Data { get; }

    /// <summary>The live socket when it belongs to this server.</summary>
    public Socket? LocalSocket { get; }

    private BroadcastOperator Self => new(_adapter, [Id], [], BroadcastFlags.Default);

    /// <summary>Emits to this socket.</summary>
    public virtual void Emit(string eventName, params ReadOnlySpan<object?> args) => Self.Emit(eventName, args);

    /// <summary>Makes the socket join rooms.</summary>
    public virtual void Join(params string[] rooms) => Self.SocketsJoin(rooms);

    /// <summary>Makes the socket leave rooms.</summary>
    public virtual void Leave(params string[] rooms) => Self.SocketsLeave(rooms);

    /// <summary>Disconnects the socket.</summary>
    public virtual void Disconnect(bool close = false) => Self.DisconnectSockets(close);
}
