using Herald.SocketIO;

namespace Herald.Cluster.Tests.Adapters;

/// <summary>
/// An adapter that wraps the built-in one and forwards every call (what an instrumenting or auditing wrapper
/// does), written from the public surface only. It must keep everything the wrapped adapter does, recovery included.
/// </summary>
public sealed class DecoratingAdapter(InMemoryAdapter inner) : ISessionAwareAdapter
{
    public Namespace Namespace => inner.Namespace;

    public event Action<string>? RoomCreated { add => inner.RoomCreated += value; remove => inner.RoomCreated -= value; }

    public event Action<string>? RoomDeleted { add => inner.RoomDeleted += value; remove => inner.RoomDeleted -= value; }

    public event Action<string, string>? RoomJoined { add => inner.RoomJoined += value; remove => inner.RoomJoined -= value; }

    public event Action<string, string>? RoomLeft { add => inner.RoomLeft += value; remove => inner.RoomLeft -= value; }

    public ValueTask InitAsync() => inner.InitAsync();

    public ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms) => inner.AddAllAsync(socketId, rooms);

    public ValueTask DelAsync(string socketId, string room) => inner.DelAsync(socketId, room);

    public ValueTask DelAllAsync(string socketId) => inner.DelAllAsync(socketId);

    public IReadOnlyCollection<string>? SocketRooms(string socketId) => inner.SocketRooms(socketId);

    public void Broadcast(BroadcastPacket packet, BroadcastOptions options) => inner.Broadcast(packet, options);

    public void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack)
        => inner.BroadcastWithAck(packet, options, clientCountCallback, ack);

    public ValueTask<IReadOnlyCollection<string>> SocketsAsync(IReadOnlyCollection<string> rooms) => inner.SocketsAsync(rooms);

    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options) => inner.FetchSocketsAsync(options);

    public void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms) => inner.AddSockets(options, rooms);

    public void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms) => inner.DelSockets(options, rooms);

    public void DisconnectSockets(BroadcastOptions options, bool close) => inner.DisconnectSockets(options, close);

    public void ServerSideEmit(string eventName, object?[] args) => inner.ServerSideEmit(eventName, args);

    public Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout)
        => inner.ServerSideEmitWithAckAsync(eventName, args, timeout);

    public ValueTask<int> ServerCountAsync() => inner.ServerCountAsync();

    public int RoomCount => inner.RoomCount;

    public void OnSessionConnected(Socket socket) => inner.OnSessionConnected(socket);

    public void OnSessionRoomsChanged(Socket socket) => inner.OnSessionRoomsChanged(socket);

    public void OnSessionClosed(Socket socket, IReadOnlyCollection<string> rooms, bool recoverable) => inner.OnSessionClosed(socket, rooms, recoverable);

    public RecoverySession? RestoreSession(string pid, string offset) => inner.RestoreSession(pid, offset);

    public bool MayCatchUp(string pid, string offset) => inner.MayCatchUp(pid, offset);

    public IReadOnlyList<BroadcastPacket> MissedPackets(string offset, IReadOnlyCollection<string> rooms, out long upTo) => inner.MissedPackets(offset, rooms, out upTo);

    public void Dispose() => inner.Dispose();
}
