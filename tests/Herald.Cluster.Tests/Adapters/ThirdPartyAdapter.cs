using Herald.SocketIO;

namespace Herald.Cluster.Tests.Adapters;

/// <summary>
/// A single-server adapter written from scratch against the public surface of Herald.SocketIO only (this assembly
/// has no access to its internals), the way a Postgres or NATS adapter would start: its own room index, fan-out
/// with <see cref="Socket.DeliverBroadcast"/>, and connection-state recovery through <see cref="ISessionAwareAdapter"/>
/// with its own log and sessions. Deliberately plain (one lock, lists): it proves the contract, not speed.
/// </summary>
public sealed class ThirdPartyAdapter(Namespace ns) : ISessionAwareAdapter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<string>> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _socketRooms = new(StringComparer.Ordinal);
    private readonly List<(long Sequence, BroadcastPacket Packet, BroadcastOptions Options)> _log = [];
    private readonly Dictionary<string, RecoverySession> _sessions = new(StringComparer.Ordinal);
    private readonly string _offsetPrefix = Guid.NewGuid().ToString("N")[..8] + "-";
    private long _sequence;

    public Namespace Namespace => ns;

    public event Action<string>? RoomCreated;

    public event Action<string>? RoomDeleted;

    public event Action<string, string>? RoomJoined;

    public event Action<string, string>? RoomLeft;

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

    public ValueTask InitAsync() => ValueTask.CompletedTask;

    public ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms)
    {
        foreach (var room in rooms)
        {
            bool created, joined;
            lock (_lock)
            {
                if (!_socketRooms.TryGetValue(socketId, out var own))
                {
                    _socketRooms[socketId] = own = new HashSet<string>(StringComparer.Ordinal);
                }

                own.Add(room);
                created = !_rooms.TryGetValue(room, out var members);
                if (created)
                {
                    _rooms[room] = members = new HashSet<string>(StringComparer.Ordinal);
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

    public ValueTask DelAsync(string socketId, string room)
    {
        lock (_lock)
        {
            if (_socketRooms.TryGetValue(socketId, out var own))
            {
                own.Remove(room);
            }
        }

        Leave(socketId, room);
        return ValueTask.CompletedTask;
    }

    public ValueTask DelAllAsync(string socketId)
    {
        HashSet<string>? own;
        lock (_lock)
        {
            _socketRooms.Remove(socketId, out own);
        }

        foreach (var room in own ?? [])
        {
            Leave(socketId, room);
        }

        return ValueTask.CompletedTask;
    }

    private void Leave(string socketId, string room)
    {
        bool left, deleted = false;
        lock (_lock)
        {
            left = _rooms.TryGetValue(room, out var members) && members.Remove(socketId);
            if (left && members!.Count == 0)
            {
                _rooms.Remove(room);
                deleted = true;
            }
        }

        if (left)
        {
            RoomLeft?.Invoke(room, socketId);
        }

        if (deleted)
        {
            RoomDeleted?.Invoke(room);
        }
    }

    public IReadOnlyCollection<string>? SocketRooms(string socketId)
    {
        lock (_lock)
        {
            return _socketRooms.TryGetValue(socketId, out var rooms) ? [.. rooms] : null;
        }
    }

    /// <summary>The local sockets matching <paramref name="options"/>, each once.</summary>
    private List<Socket> Targets(BroadcastOptions options)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        lock (_lock)
        {
            if (options.Rooms.Count == 0)
            {
                ids.UnionWith(_socketRooms.Keys);
            }

            foreach (var room in options.Rooms)
            {
                if (_rooms.TryGetValue(room, out var members))
                {
                    ids.UnionWith(members);
                }
            }

            foreach (var room in options.Except)
            {
                if (_rooms.TryGetValue(room, out var members))
                {
                    ids.ExceptWith(members);
                }
            }
        }

        var sockets = new List<Socket>(ids.Count);
        foreach (var id in ids)
        {
            if (ns.Sockets.TryGetValue(id, out var socket))
            {
                sockets.Add(socket);
            }
        }

        return sockets;
    }

    public void Broadcast(BroadcastPacket packet, BroadcastOptions options)
    {
        if (ns.Server.Options.ConnectionStateRecovery is not null && packet.CanStamp && packet.IsRecoverable(options))
        {
            lock (_lock)
            {
                packet.Stamp(_offsetPrefix + (_sequence + 1));
                packet.LogSequence = ++_sequence;
                _log.Add((_sequence, packet, options)); // logged before any local delivery
            }
        }

        foreach (var socket in Targets(options))
        {
            socket.DeliverBroadcast(packet, options.Flags);
        }
    }

    public void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack)
    {
        var reached = 0;
        foreach (var socket in Targets(options))
        {
            if (socket.DeliverBroadcastWithAck(packet, options.Flags, ack))
            {
                reached++;
            }
        }

        clientCountCallback(reached);
    }

    public ValueTask<IReadOnlyCollection<string>> SocketsAsync(IReadOnlyCollection<string> rooms)
        => new([.. Targets(new BroadcastOptions([.. rooms], [], BroadcastFlags.Default)).Select(s => s.Id)]);

    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
        => new([.. Targets(options).Select(s => new RemoteSocket(s))]);

    public void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        foreach (var socket in Targets(options))
        {
            _ = socket.Join(rooms);
        }
    }

    public void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        foreach (var socket in Targets(options))
        {
            _ = socket.Leave(rooms);
        }
    }

    public void DisconnectSockets(BroadcastOptions options, bool close)
    {
        foreach (var socket in Targets(options))
        {
            socket.Disconnect(close);
        }
    }

    public void ServerSideEmit(string eventName, object?[] args)
    {
    }

    public Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout)
        => Task.FromResult<IReadOnlyList<ServerSideResponse>>([]);

    public ValueTask<int> ServerCountAsync() => new(1);

    public void OnSessionConnected(Socket socket)
    {
    }

    public void OnSessionRoomsChanged(Socket socket)
    {
    }

    public void OnSessionClosed(Socket socket, IReadOnlyCollection<string> rooms, bool recoverable)
    {
        lock (_lock)
        {
            if (!recoverable)
            {
                _sessions.Remove(socket.Pid!);
                return;
            }

            _sessions[socket.Pid!] = new RecoverySession
            {
                Pid = socket.Pid!,
                Sid = socket.Id,
                Rooms = [.. rooms],
                Data = new Dictionary<string, object?>(socket.Data),
                Generation = socket.SessionGeneration,
                DisconnectedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };
        }
    }

    public RecoverySession? RestoreSession(string pid, string offset)
    {
        lock (_lock)
        {
            return _log.Exists(e => e.Packet.Offset == offset) && _sessions.Remove(pid, out var session) ? session : null;
        }
    }

    public bool MayCatchUp(string pid, string offset) => false;

    public IReadOnlyList<BroadcastPacket> MissedPackets(string offset, IReadOnlyCollection<string> rooms, out long upTo)
    {
        lock (_lock)
        {
            upTo = _sequence;
            var from = _log.FindIndex(e => e.Packet.Offset == offset);
            var missed = new List<BroadcastPacket>();
            for (var i = from + 1; i < _log.Count; i++)
            {
                var (_, packet, options) = _log[i];
                var included = options.Rooms.Count == 0 || options.Rooms.Any(rooms.Contains);
                if (included && !options.Except.Any(rooms.Contains))
                {
                    missed.Add(packet);
                }
            }

            return missed;
        }
    }

    public void Dispose()
    {
    }
}
