namespace Herald.SocketIO;

/// <summary>
/// The room index and broadcast engine of one namespace (socket.io-adapter). Every broadcast, room change
/// and socket query goes through it, so a cluster adapter can carry them over a message bus: operations a
/// cluster must forward to other nodes are fire-and-forget (<see cref="Broadcast"/>, <see cref="AddSockets"/>,
/// ...) or asynchronous where an answer is needed (<see cref="FetchSocketsAsync"/>, <see cref="ServerCountAsync"/>).
/// Room membership of local sockets is asynchronous too, so that a cluster adapter may subscribe to a
/// per-room channel before the join completes.
/// </summary>
/// <remarks>
/// <para>A custom adapter (Postgres, NATS, ...) implements this interface, and <see cref="ISessionAwareAdapter"/>
/// for connection-state recovery, from the public surface alone: it finds a local socket with
/// <see cref="Namespace.Sockets"/>, writes an encoded packet to it with <see cref="Socket.DeliverBroadcast"/> and
/// <see cref="Socket.DeliverBroadcastWithAck"/>, and describes it to <see cref="FetchSocketsAsync"/> with
/// <see cref="RemoteSocket(Socket)"/>. Or it derives from <see cref="InMemoryAdapter"/> to keep the local room index
/// and recovery log, as <see cref="Cluster.ClusterAdapter"/> does. The room index holds socket ids: a socket joins
/// rooms (in a middleware) before the namespace lists it, so delivery looks the socket up when it fans out.</para>
/// <para>Set <see cref="SocketIOOptions.AdapterFactory"/> to use it.</para>
/// </remarks>
public interface IAdapter : IDisposable
{
    /// <summary>The namespace this adapter serves.</summary>
    Namespace Namespace { get; }

    /// <summary>A room got its first member (socket.io <c>create-room</c>).</summary>
    event Action<string>? RoomCreated;

    /// <summary>A room lost its last member (socket.io <c>delete-room</c>).</summary>
    event Action<string>? RoomDeleted;

    /// <summary>A socket joined a room: (room, socket id) (socket.io <c>join-room</c>).</summary>
    event Action<string, string>? RoomJoined;

    /// <summary>A socket left a room: (room, socket id) (socket.io <c>leave-room</c>).</summary>
    event Action<string, string>? RoomLeft;

    /// <summary>Starts the adapter (subscriptions of a cluster adapter).</summary>
    ValueTask InitAsync();

    /// <summary>Adds a local socket to rooms.</summary>
    ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms);

    /// <summary>Removes a local socket from a room.</summary>
    ValueTask DelAsync(string socketId, string room);

    /// <summary>Removes a local socket from every room.</summary>
    ValueTask DelAllAsync(string socketId);

    /// <summary>How many rooms have local members, each socket's own-id room included (the rooms metric).</summary>
    int RoomCount { get; }

    /// <summary>The rooms of a local socket (a snapshot), or null when it is unknown.</summary>
    IReadOnlyCollection<string>? SocketRooms(string socketId);

    /// <summary>Sends an encoded packet to every socket matching <paramref name="options"/>.</summary>
    void Broadcast(BroadcastPacket packet, BroadcastOptions options);

    /// <summary>
    /// Sends a packet that asks for acknowledgements (its <see cref="BroadcastPacket.Id"/> is set); reports how
    /// many clients it reached with <paramref name="clientCountCallback"/> (a cluster adapter calls it once per node)
    /// and every answer with <paramref name="ack"/>.
    /// </summary>
    void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack);

    /// <summary>The ids of the sockets in any of <paramref name="rooms"/> (all sockets when empty).</summary>
    ValueTask<IReadOnlyCollection<string>> SocketsAsync(IReadOnlyCollection<string> rooms);

    /// <summary>The sockets matching <paramref name="options"/>, local and (for a cluster adapter) remote.</summary>
    ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options);

    /// <summary>Makes the matching sockets join <paramref name="rooms"/>.</summary>
    void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms);

    /// <summary>Makes the matching sockets leave <paramref name="rooms"/>.</summary>
    void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms);

    /// <summary>Disconnects the matching sockets (<paramref name="close"/>: also close their Engine.IO connection).</summary>
    void DisconnectSockets(BroadcastOptions options, bool close);

    /// <summary>Sends an event to the other servers of the cluster (nothing to do in memory).</summary>
    void ServerSideEmit(string eventName, object?[] args);

    /// <summary>
    /// Sends an event to the other servers of the cluster and collects one answer per server alive when it left
    /// (an empty list at once in memory). Throws <see cref="ServerSideEmitTimeoutException"/>, with the answers
    /// that arrived, when not every server answered within <paramref name="timeout"/> (null: the adapter's default).
    /// </summary>
    Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout);

    /// <summary>How many servers share this namespace (1 in memory).</summary>
    ValueTask<int> ServerCountAsync();
}
