using System.Collections.Concurrent;
using System.Security.Cryptography;
using Herald.EngineIO;
using Herald.Protocol.SocketIO;
using Herald.SocketIO.Internal;
using Herald.SocketIO.Recovery;
using Microsoft.Extensions.Logging;

namespace Herald.SocketIO;

/// <summary>
/// One client connected to one namespace (several sockets can share one Engine.IO connection). Handlers
/// registered with <c>On</c> run on the connection's receive loop in arrival order; an async handler's
/// continuation runs independently (like socket.io), so a handler should not block.
/// </summary>
public sealed partial class Socket
{
    private const int StateConnecting = 0;
    private const int StateConnected = 1;
    private const int StateClosing = 2;
    private const int StateClosed = 3;
    private const int MaxBacklog = 1024;

    private readonly Lock _backlogLock = new();
    private Queue<SocketIOPacket>? _backlog;
    private bool _ready;
    private int _state;

    internal Socket(Namespace ns, ClientConnection client, Handshake handshake, RecoverySession? session = null, string? offset = null)
    {
        Namespace = ns;
        Client = client;
        Handshake = handshake;
        if (session is not null && offset is not null)
        {
            Id = session.Sid;
            Pid = session.Pid;
            SessionGeneration = session.Generation + 1;
            foreach (var (key, value) in session.Data)
            {
                Data[key] = value;
            }

            _restored = session;
            _restoreOffset = offset;
            Recovered = true;
        }
        else
        {
            Id = NewId();
            Pid = ns.RecoveryAdapter is null ? null : ConnectionStateStore.NewPid();
        }
    }

    /// <summary>The socket id, unique per namespace connection (distinct from the Engine.IO session id).</summary>
    public string Id { get; }

    /// <summary>The namespace the socket belongs to.</summary>
    public Namespace Namespace { get; }

    /// <summary>The server.</summary>
    public SocketIOServer Server => Namespace.Server;

    private ConcurrentDictionary<string, object?>? _data;

    /// <summary>What the client presented when connecting.</summary>
    public Handshake Handshake { get; }

    /// <summary>Free storage for the application (thread-safe); copied into <see cref="RemoteSocket.Data"/>.</summary>
    public ConcurrentDictionary<string, object?> Data
    {
        get
        {
            // Created on first use: most sockets never store anything, and an empty ConcurrentDictionary
            // (buckets, lock array) costs about half a kilobyte per idle connection.
            var data = System.Threading.Volatile.Read(ref _data);
            if (data is not null)
            {
                return data;
            }

            Interlocked.CompareExchange(ref _data, new ConcurrentDictionary<string, object?>(StringComparer.Ordinal), null);
            return _data;
        }
    }

    /// <summary>The data without creating it (null when nothing was ever stored).</summary>
    internal ConcurrentDictionary<string, object?>? DataOrNull => System.Threading.Volatile.Read(ref _data);

    /// <summary>The rooms the socket is in (a snapshot; includes its own id).</summary>
    public IReadOnlyCollection<string> Rooms => Namespace.Adapter.SocketRooms(Id) ?? [];

    /// <summary>True from the connection until the end of the disconnect (handlers of <see cref="OnDisconnecting"/> still see it connected).</summary>
    public bool Connected => System.Threading.Volatile.Read(ref _state) is StateConnected or StateClosing;

    /// <summary>
    /// Whether this socket is a recovered session (<see cref="SocketIOOptions.ConnectionStateRecovery"/>): same
    /// <see cref="Id"/>, rooms and <see cref="Data"/> as before the disconnection, and the missed packets were sent.
    /// </summary>
    public bool Recovered { get; }

    /// <summary>
    /// The private session id sent to the client when recovery is on (null otherwise): a secret that gives the socket
    /// back to whoever presents it, for an <see cref="ISessionAwareAdapter"/> to key the session with; never send it to another client.
    /// </summary>
    public string? Pid { get; }

    /// <summary>How many times this session was restored (<see cref="RecoverySession.Generation"/>; orders a cluster's session updates).</summary>
    public int SessionGeneration { get; }

    /// <summary>The underlying Engine.IO connection.</summary>
    public EngineConnection Connection => Client.Connection;

    internal ClientConnection Client { get; }

    private ILogger Logger => Namespace.Server.Logger;

    /// <summary>Joins a room.</summary>
    /// <exception cref="RoomLimitExceededException">The socket would be in more than <see cref="SocketIOOptions.MaxRoomsPerSocket"/> rooms.</exception>
    public Task Join(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        IReadOnlyCollection<string> rooms = [room];
        ThrowIfTooManyRooms(rooms);
        return AfterRoomsChanged(Namespace.Adapter.AddAllAsync(Id, rooms));
    }

    /// <summary>Joins several rooms (all or none, as far as <see cref="SocketIOOptions.MaxRoomsPerSocket"/> goes).</summary>
    /// <exception cref="RoomLimitExceededException">The socket would be in more than <see cref="SocketIOOptions.MaxRoomsPerSocket"/> rooms.</exception>
    public Task Join(IEnumerable<string> rooms)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        var list = rooms as IReadOnlyCollection<string> ?? [.. rooms];
        ThrowIfTooManyRooms(list);
        return AfterRoomsChanged(Namespace.Adapter.AddAllAsync(Id, list));
    }

    private void ThrowIfTooManyRooms(IReadOnlyCollection<string> rooms)
    {
        var limit = Server.Options.MaxRoomsPerSocket;
        var current = Namespace.Adapter.SocketRooms(Id);
        var count = current?.Count ?? 0;
        if (count + rooms.Count <= limit)
        {
            return; // the common case: far below the limit, no need to look at which rooms are new
        }

        if (current is not null && System.Linq.Enumerable.Contains(current, Id))
        {
            count--; // the socket's own room is not the client's doing
        }

        HashSet<string>? added = null;
        foreach (var room in rooms)
        {
            if ((current is null || !System.Linq.Enumerable.Contains(current, room)) && (added ??= new(StringComparer.Ordinal)).Add(room))
            {
                count++;
            }
        }

        if (count > limit)
        {
            throw new RoomLimitExceededException(Id, limit);
        }
    }

    /// <summary>Leaves a room.</summary>
    public Task Leave(string room) => AfterRoomsChanged(Namespace.Adapter.DelAsync(Id, room));

    /// <summary>Leaves several rooms.</summary>
    public async Task Leave(IEnumerable<string> rooms)
    {
        foreach (var room in rooms)
        {
            await Namespace.Adapter.DelAsync(Id, room).ConfigureAwait(false);
        }

        NotifyRoomsChanged();
    }

    /// <summary>Targets the sockets of <paramref name="room"/> except this one.</summary>
    public BroadcastOperator To(string room) => new(Namespace.Adapter, [room], [Id], BroadcastFlags.Default);

    /// <summary>Targets the sockets of these rooms except this one.</summary>
    public BroadcastOperator To(params IEnumerable<string> rooms) => Broadcast.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(params IEnumerable<string> rooms) => To(rooms);

    /// <summary>Targets every socket of the namespace except this one and the members of <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    /// <summary>Targets every socket of the namespace except this one and the members of these rooms.</summary>
    public BroadcastOperator Except(params IEnumerable<string> rooms) => Broadcast.Except(rooms);

    /// <summary>Targets every other socket of the namespace.</summary>
    public BroadcastOperator Broadcast => new(Namespace.Adapter, [], [Id], BroadcastFlags.Default);

    /// <summary>Targets every other socket of the namespace on this server only.</summary>
    public BroadcastOperator Local => Broadcast.Local;

    /// <summary>
    /// Leaves the namespace: sends DISCONNECT and ends the socket with reason
    /// <c>server namespace disconnect</c>; with <paramref name="close"/>, does so for every namespace of the
    /// client and closes the Engine.IO connection.
    /// </summary>
    public void Disconnect(bool close = false)
    {
        if (!Connected)
        {
            return;
        }

        if (close)
        {
            Client.DisconnectAll();
            return;
        }

        Client.Send(SocketIOPacketEncoder.EncodeDisconnect(Namespace.Name), isVolatile: false);
        OnClose(DisconnectReasons.ServerNamespaceDisconnect);
    }

    internal static string NewId()
    {
        // 15 random bytes → 20 url-safe characters, like socket.io's base64id.
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    internal static void ThrowIfReserved(string eventName)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (eventName is "connect" or "connect_error" or "disconnect" or "disconnecting" or "newListener" or "removeListener")
        {
            ThrowReserved(eventName);
        }
    }

    private static void ThrowReserved(string eventName) => throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));

    /// <summary>
    /// Called once the namespace accepted the socket: joins its own room (and, when recovered, its previous rooms),
    /// answers CONNECT (with the private session id when recovery is on), then replays what a recovered socket missed.
    /// </summary>
    internal async ValueTask<bool> ConnectAsync()
    {
        if (_restored is { } session)
        {
            // Live packets that reach the socket from now on wait until the replay is out (see ConnectionStateStore).
            lock (_replayLock)
            {
                _replayBuffer = [];
            }

            await Namespace.Adapter.AddAllAsync(Id, [Id, .. session.Rooms]).ConfigureAwait(false);
        }
        else
        {
            await Namespace.Adapter.AddAllAsync(Id, [Id]).ConfigureAwait(false);
        }

        if (Interlocked.CompareExchange(ref _state, StateConnected, StateConnecting) != StateConnecting)
        {
            return false; // the connection closed meanwhile
        }

        if (Pid is not null)
        {
            // Before the answer: a cluster knows the session before the client can act on it.
            Namespace.RecoveryAdapter?.OnSessionConnected(this);
        }

        Client.Send(SocketIOPacketEncoder.EncodeConnect(Namespace.Name, Id, Pid), isVolatile: false);
        if (_restored is not null)
        {
            Replay();
        }

        return true;
    }

    /// <summary>A packet for this socket from the receive loop; held back until the connection handlers ran.</summary>
    internal void OnPacket(SocketIOPacket packet)
    {
        lock (_backlogLock)
        {
            if (!_ready)
            {
                _backlog ??= new Queue<SocketIOPacket>();
                if (_backlog.Count >= MaxBacklog)
                {
                    packet.Dispose();
                    Client.CloseForError("too many packets before the connection handlers completed");
                    return;
                }

                _backlog.Enqueue(packet);
                return;
            }
        }

        Process(packet);
    }

    /// <summary>The connection handlers ran: process what arrived meanwhile, in order, then go live.</summary>
    internal void MarkReady()
    {
        while (true)
        {
            SocketIOPacket packet;
            lock (_backlogLock)
            {
                if (_backlog is null || _backlog.Count == 0)
                {
                    _ready = true;
                    return;
                }

                packet = _backlog.Dequeue();
            }

            Process(packet);
        }
    }

    private void Process(SocketIOPacket packet)
    {
        switch (packet.Type)
        {
            case SocketIOPacketType.Event:
            case SocketIOPacketType.BinaryEvent:
                OnEvent(packet);
                break;
            case SocketIOPacketType.Ack:
            case SocketIOPacketType.BinaryAck:
                OnAck(packet);
                break;
            case SocketIOPacketType.Disconnect:
                packet.Dispose();
                OnClose(DisconnectReasons.ClientNamespaceDisconnect);
                break;
            default:
                packet.Dispose();
                break;
        }
    }

    /// <summary>Ends the socket: disconnecting handlers, leave every room, leave the namespace and the client, fail pending acks, disconnect handlers.</summary>
    internal void OnClose(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, StateClosing, StateConnected) != StateConnected)
        {
            if (Interlocked.CompareExchange(ref _state, StateClosed, StateConnecting) == StateConnecting)
            {
                DropBacklog();
            }

            return;
        }

        SocketIOLog.SocketDisconnecting(Logger, Id, Namespace.Name, reason);
        RaiseLifecycle(_disconnectingHandlers, reason);
        if (Pid is not null && Namespace.RecoveryAdapter is { } recoveryAdapter)
        {
            // The rooms are read before they are left: they are what a recovered socket joins again.
            recoveryAdapter.OnSessionClosed(this, Rooms, IsRecoverable(reason));
        }

        var cleanup = Namespace.Adapter.DelAllAsync(Id);
        if (cleanup.IsCompletedSuccessfully)
        {
            FinishClose(reason);
        }
        else
        {
            _ = FinishCloseAsync(cleanup, reason);
        }
    }

    private async Task FinishCloseAsync(ValueTask cleanup, string reason)
    {
        try
        {
            await cleanup.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.AdapterError(Logger, Namespace.Name, ex);
        }

        FinishClose(reason);
    }

    private void FinishClose(string reason)
    {
        Namespace.Remove(this);
        Client.Remove(this);
        System.Threading.Volatile.Write(ref _state, StateClosed);
        DropBacklog();
        FailPendingAcks();
        RaiseLifecycle(_disconnectHandlers, reason);
    }

    private void DropBacklog()
    {
        lock (_backlogLock)
        {
            _ready = true;
            while (_backlog is { Count: > 0 })
            {
                _backlog.Dequeue().Dispose();
            }
        }
    }
}
