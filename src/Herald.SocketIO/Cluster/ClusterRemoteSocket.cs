namespace Herald.SocketIO.Cluster;

/// <summary>
/// A socket of another node, as returned by <c>FetchSocketsAsync</c> through the <see cref="ClusterAdapter"/>: a
/// snapshot (id, handshake, rooms, data as JSON) whose actions are sent to the node that owns it only.
/// </summary>
public sealed class ClusterRemoteSocket : RemoteSocket
{
    private readonly ClusterAdapter _adapter;

    internal ClusterRemoteSocket(ClusterAdapter adapter, string node, string id, Handshake? handshake, IReadOnlyCollection<string> rooms, IReadOnlyDictionary<string, object?> data)
        : base(adapter, id, handshake, rooms, data)
    {
        _adapter = adapter;
        Node = node;
    }

    /// <summary>The node that holds the socket.</summary>
    public string Node { get; }

    /// <inheritdoc />
    public override void Emit(string eventName, params ReadOnlySpan<object?> args)
    {
        Socket.ThrowIfReserved(eventName);
        _adapter.EmitToRemote(Node, Id, eventName, args.ToArray());
    }

    /// <inheritdoc />
    public override void Join(params string[] rooms) => _adapter.RoomsOfRemote(Node, Id, join: true, rooms);

    /// <inheritdoc />
    public override void Leave(params string[] rooms) => _adapter.RoomsOfRemote(Node, Id, join: false, rooms);

    /// <inheritdoc />
    public override void Disconnect(bool close = false) => _adapter.DisconnectRemote(Node, Id, close);
}
