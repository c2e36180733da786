using System.Buffers;
using Herald.SocketIO.Recovery;

namespace Herald.SocketIO;

/// <summary>
/// The default adapter: a room index in memory (room → socket ids and socket id → rooms) for one server.
/// Fan-out collects the targets into a pooled array under the lock, then delivers outside it, so no user
/// code (outgoing listeners) and no transport call runs while the index is locked. Rooms are walked with
/// the struct enumerators of <see cref="HashSet{T}"/>; a socket in several target rooms is reached once
/// (it is skipped in room i when it is a member of an earlier target room), and a socket in any
/// <see cref="BroadcastOptions.Except"/> room is skipped, all without allocating per broadcast.
/// A cluster adapter can derive from it to keep the local index and add the bus.
/// </summary>
public class InMemoryAdapter : ISessionAwareAdapter
{
    private static readonly Task<IReadOnlyList<ServerSideResponse>> NoServerSideResponses = Task.FromResult<IReadOnlyList<ServerSideResponse>>([]);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<string>> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _sids = new(StringComparer.Ordinal);

    /// <summary>Creates the adapter of <paramref name="ns"/>.</summary>
    public InMemoryAdapter(Namespace ns)
    {
        Namespace = ns;
        if (ns.Server.Options.ConnectionStateRecovery is { } recovery)
        {
            Recovery = new ConnectionStateStore(recovery, ns.Server.TimeProvider);
        }
    }

    /// <inheritdoc />
    public Namespace Namespace { get; }

    /// <inheritdoc />
    public event Action<string>? RoomCreated;

    /// <inheritdoc />
    public event Action<string>? RoomDeleted;

    /// <inheritdoc />
    public event Action<string, string>? RoomJoined;

    /// <inheritdoc />
    public event Action<string, string>? RoomLeft;

    /// <inheritdoc />
    public int RoomCount
    {
        get
        {
            lock (_lock)
            {
                return _rooms.Count;
            }
        }
    }

    /// <inheritdoc />
    public virtual ValueTask InitAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public virtual ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        foreach (var room in rooms)
        {
            bool created;
            bool joined;
            lock (_lock)
            {
                if (!_sids.TryGetValue(socketId, out var socketRooms))
                {
                    socketRooms = new HashSet<string>(StringComparer.Ordinal);
                    _sids.Add(socketId, socketRooms);
                }

                socketRooms.Add(room);
                created = !_rooms.TryGetValue(room, out var members);
                if (created)
                {
                    members = new HashSet<string>(StringComparer.Ordinal);
                    _rooms.Add(room, members);
                }

                joined = members!.Add(socketId);
            }

            if (created)
            {
                RoomCreated?.Invoke(room);
            }

            if (joined)
            {
                RoomJoined?.Invoke(room, socketId);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public virtual ValueTask DelAsync(string socketId, string room)
    {
        bool left;
        bool deleted;
        lock (_lock)
        {
            if (_sids.TryGetValue(socketId, out var socketRooms))
            {
                socketRooms.Remove(room);
            }

            (left, deleted) = RemoveFromRoom(socketId, room);
        }

        Raise(socketId, room, left, deleted);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public virtual ValueTask DelAllAsync(string socketId)
    {
        string[] rooms;
        lock (_lock)
        {
            if (!_sids.Remove(socketId, out var socketRooms))
            {
                return ValueTask.CompletedTask;
            }

            rooms = [.. socketRooms];
        }

        foreach (var room in rooms)
        {
            bool left;
            bool deleted;
            lock (_lock)
            {
                (left, deleted) = RemoveFromRoom(socketId, room);
            }

            Raise(socketId, room, left, deleted);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public virtual IReadOnlyCollection<string>? SocketRooms(string socketId)
    {
        lock (_lock)
        {
            return _sids.TryGetValue(socketId, out var rooms) ? [.. rooms] : null;
        }
    }

    /// <summary>The number of packets in the connection-state recovery log (0 when recovery is off).</summary>
    public int RecoveryLogCount => Recovery?.PacketCount ?? 0;

    /// <summary>The recovery log and sessions of this namespace; null when recovery is off.</summary>
    internal ConnectionStateStore? Recovery { get; }

    /// <inheritdoc />
    public virtual void Broadcast(BroadcastPacket packet, BroadcastOptions options)
    {
        if (Recovery is { } recovery && packet.CanStamp && packet.IsRecoverable(options))
        {
            recovery.Stamp(packet);
            recovery.Append(packet, options);
        }

        DeliverLocal(packet, options);
    }

    /// <inheritdoc />
    /// <remarks>Nothing to do on one server; a cluster adapter tells the other nodes about the session.</remarks>
    public virtual void OnSessionConnected(Socket socket)
    {
    }

    /// <inheritdoc />
    public virtual void OnSessionRoomsChanged(Socket socket)
    {
    }

    /// <inheritdoc />
    public virtual void OnSessionClosed(Socket socket, IReadOnlyCollection<string> rooms, bool recoverable)
    {
        if (recoverable && Recovery is { } recovery && socket.Pid is { } pid)
        {
            recovery.Save(new RecoverySession
            {
                Pid = pid,
                Sid = socket.Id,
                Rooms = rooms,
                Data = new Dictionary<string, object?>(socket.Data, StringComparer.Ordinal),
                Generation = socket.SessionGeneration,
                DisconnectedAt = Namespace.Server.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            });
        }
    }

    /// <inheritdoc />
    public virtual RecoverySession? RestoreSession(string pid, string offset) => Recovery?.TryTake(pid, offset, null);

    /// <inheritdoc />
    public virtual bool MayCatchUp(string pid, string offset) => false;

    /// <inheritdoc />
    public virtual IReadOnlyList<BroadcastPacket> MissedPackets(string offset, IReadOnlyCollection<string> rooms, out long upTo)
    {
        if (Recovery is not { } recovery)
        {
            upTo = -1;
            return [];
        }

        return recovery.Missed(offset, rooms, out upTo);
    }

    /// <summary>Delivers a packet to the local sockets matching <paramref name="options"/> (no logging, no forwarding).</summary>
    protected void DeliverLocal(BroadcastPacket packet, BroadcastOptions options)
    {
        var targets = Collect(options, out var count);
        try
        {
            var flags = options.Flags;
            for (var i = 0; i < count; i++)
            {
                targets[i].DeliverBroadcast(packet, flags);
            }
        }
        finally
        {
            Release(targets, count);
        }
    }

    /// <inheritdoc />
    public virtual void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack)
    {
        var targets = Collect(options, out var count);
        var reached = 0;
        try
        {
            var flags = options.Flags;
            for (var i = 0; i < count; i++)
            {
                if (targets[i].DeliverBroadcastWithAck(packet, flags, ack))
                {
                    reached++;
                }
            }
        }
        finally
        {
            Release(targets, count);
        }

        clientCountCallback(reached);
    }

    /// <inheritdoc />
    public virtual ValueTask<IReadOnlyCollection<string>> SocketsAsync(IReadOnlyCollection<string> rooms)
    {
        var options = new BroadcastOptions(rooms as IReadOnlyList<string> ?? [.. rooms], [], BroadcastFlags.Default);
        var targets = Collect(options, out var count);
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = targets[i].Id;
        }

        Release(targets, count);
        return new ValueTask<IReadOnlyCollection<string>>(ids);
    }

    /// <inheritdoc />
    public virtual ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        var targets = Collect(options, out var count);
        var sockets = new RemoteSocket[count];
        for (var i = 0; i < count; i++)
        {
            sockets[i] = new RemoteSocket(targets[i]);
        }

        Release(targets, count);
        return new ValueTask<IReadOnlyList<RemoteSocket>>(sockets);
    }

    /// <inheritdoc />
    public virtual void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        var targets = Collect(options, out var count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                _ = targets[i].Join(rooms);
            }
        }
        finally
        {
            Release(targets, count);
        }
    }

    /// <inheritdoc />
    public virtual void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        var targets = Collect(options, out var count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                foreach (var room in rooms)
                {
                    _ = targets[i].Leave(room);
                }
            }
        }
        finally
        {
            Release(targets, count);
        }
    }

    /// <inheritdoc />
    public virtual void DisconnectSockets(BroadcastOptions options, bool close)
    {
        var targets = Collect(options, out var count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                targets[i].Disconnect(close);
            }
        }
        finally
        {
            Release(targets, count);
        }
    }

    /// <inheritdoc />
    public virtual void ServerSideEmit(string eventName, object?[] args)
    {
        // A single server has no peer to tell.
    }

    /// <inheritdoc />
    public virtual Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout)
        => NoServerSideResponses; // a single server has nobody to answer

    /// <inheritdoc />
    public virtual ValueTask<int> ServerCountAsync() => new(1);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources (nothing in memory).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>The local sockets matching <paramref name="options"/>, in a pooled array to give back with <see cref="Release"/>.</summary>
    protected Socket[] Collect(BroadcastOptions options, out int count)
    {
        var rooms = options.Rooms;
        var except = options.Except;
        count = 0;
        lock (_lock)
        {
            var targets = ArrayPool<Socket>.Shared.Rent(Math.Max(Estimate(rooms), 1));
            if (rooms.Count > SmallRoomList || except.Count > SmallRoomList)
            {
                CollectMany(rooms, except, ref targets, ref count);
                return targets;
            }

            if (rooms.Count == 0)
            {
                foreach (var id in _sids.Keys)
                {
                    if (!IsExcluded(id, except))
                    {
                        Add(ref targets, ref count, id);
                    }
                }

                return targets;
            }

            for (var r = 0; r < rooms.Count; r++)
            {
                if (!_rooms.TryGetValue(rooms[r], out var members))
                {
                    continue;
                }

                foreach (var id in members)
                {
                    if (!InEarlierRoom(id, rooms, r) && !IsExcluded(id, except))
                    {
                        Add(ref targets, ref count, id);
                    }
                }
            }

            return targets;
        }
    }

    // Up to this many rooms (or excepted rooms), a socket's earlier rooms and exclusions are looked up room by room,
    // allocation-free (the common broadcast: one room, a few at most). Past it, that lookup would cost rooms × members
    // (a request naming 100,000 rooms took seconds, issue 13), so CollectMany builds sets once instead.
    private const int SmallRoomList = 8;

    private void CollectMany(IReadOnlyList<string> rooms, IReadOnlyList<string> except, ref Socket[] targets, ref int count)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < except.Count; i++)
        {
            if (_rooms.TryGetValue(except[i], out var members))
            {
                excluded.UnionWith(members);
            }
        }

        if (rooms.Count == 0)
        {
            foreach (var id in _sids.Keys)
            {
                if (!excluded.Contains(id))
                {
                    Add(ref targets, ref count, id);
                }
            }

            return;
        }

        var seen = excluded; // an excluded socket and one already added are skipped alike
        for (var r = 0; r < rooms.Count; r++)
        {
            if (!_rooms.TryGetValue(rooms[r], out var members))
            {
                continue;
            }

            foreach (var id in members)
            {
                if (seen.Add(id))
                {
                    Add(ref targets, ref count, id);
                }
            }
        }
    }

    /// <summary>Gives back an array from <see cref="Collect"/>.</summary>
    protected static void Release(Socket[] targets, int count)
    {
        Array.Clear(targets, 0, count);
        ArrayPool<Socket>.Shared.Return(targets);
    }

    private int Estimate(IReadOnlyList<string> rooms)
    {
        if (rooms.Count == 0)
        {
            return _sids.Count;
        }

        var total = 0;
        for (var r = 0; r < rooms.Count; r++)
        {
            if (_rooms.TryGetValue(rooms[r], out var members))
            {
                total += members.Count;
            }
        }

        return total;
    }

    private void Add(ref Socket[] targets, ref int count, string id)
    {
        if (!Namespace.TryGetSocket(id, out var socket))
        {
            return;
        }

        if (count == targets.Length)
        {
            var bigger = ArrayPool<Socket>.Shared.Rent(targets.Length * 2);
            targets.AsSpan(0, count).CopyTo(bigger);
            Release(targets, count);
            targets = bigger;
        }

        targets[count++] = socket;
    }

    private bool InEarlierRoom(string id, IReadOnlyList<string> rooms, int index)
    {
        for (var i = 0; i < index; i++)
        {
            if (_rooms.TryGetValue(rooms[i], out var members) && members.Contains(id))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsExcluded(string id, IReadOnlyList<string> except)
    {
        for (var i = 0; i < except.Count; i++)
        {
            if (_rooms.TryGetValue(except[i], out var members) && members.Contains(id))
            {
                return true;
            }
        }

        return false;
    }

    private (bool Left, bool Deleted) RemoveFromRoom(string socketId, string room)
    {
        if (!_rooms.TryGetValue(room, out var members) || !members.Remove(socketId))
        {
            return (false, false);
        }

        if (members.Count == 0)
        {
            _rooms.Remove(room);
            return (true, true);
        }

        return (true, false);
    }

    private void Raise(string socketId, string room, bool left, bool deleted)
    {
        if (left)
        {
            RoomLeft?.Invoke(room, socketId);
        }

        if (deleted)
        {
            RoomDeleted?.Invoke(room);
        }
    }
}
