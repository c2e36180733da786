using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

public sealed partial class Socket
{
    private readonly Lock _acksLock = new();
    private readonly Dictionary<long, PendingAck> _acks = [];

    /// <summary>Emits <c>[eventName, ...args]</c> to this client (BINARY_EVENT when an argument holds bytes). False when the socket is gone or its queue is full.</summary>
    public bool Emit(string eventName, params ReadOnlySpan<object?> args) => EmitCore(eventName, args, BroadcastFlags.Default);

    /// <summary>Emits and waits for the client's acknowledgement (fails with <see cref="SocketDisconnectedException"/> if the socket goes away first).</summary>
    public Task<AckResponse> EmitWithAckAsync(string eventName, params ReadOnlySpan<object?> args) => EmitWithAckCore(eventName, args, BroadcastFlags.Default);

    /// <summary>Emits and returns the first argument of the client's acknowledgement.</summary>
    public Task<T?> EmitWithAckAsync<T>(string eventName, params ReadOnlySpan<object?> args) => FirstArg<T>(EmitWithAckCore(eventName, args, BroadcastFlags.Default));

    /// <summary>An emitter whose acknowledgements time out with a <see cref="TimeoutException"/>.</summary>
    public SocketEmitter Timeout(TimeSpan timeout) => new(this, BroadcastFlags.Default with { Timeout = timeout });

    /// <summary>An emitter that drops the event if the transport cannot take it right now.</summary>
    public SocketEmitter Volatile => new(this, BroadcastFlags.Default with { Volatile = true });

    /// <summary>An emitter with the compress flag set.</summary>
    public SocketEmitter Compress(bool compress) => new(this, BroadcastFlags.Default with { Compress = compress });

    internal bool EmitCore(string eventName, ReadOnlySpan<object?> args, BroadcastFlags flags)
    {
        ThrowIfReserved(eventName);
        if (!Connected)
        {
            return false;
        }

        if (!flags.Volatile && Pid is not null)
        {
            // With recovery on, a non-volatile emit goes through the adapter (socket.io does the same) so that it is
            // logged with an offset and can be replayed, here or on another node.
            Namespace.Adapter.Broadcast(new BroadcastPacket(Namespace.Name, eventName, args.ToArray(), -1, Server.JsonOptions),
                new BroadcastOptions([Id], [], flags));
            return true;
        }

        var encoded = SocketIOPacketEncoder.EncodeEvent(Namespace.Name, eventName, args, -1, Server.JsonOptions);
        if (_anyOutgoingListeners.Length > 0)
        {
            NotifyOutgoing(eventName, args.ToArray());
        }

        return Client.Send(encoded, flags.Volatile);
    }

    internal Task<AckResponse> EmitWithAckCore(string eventName, ReadOnlySpan<object?> args, BroadcastFlags flags)
    {
        ThrowIfReserved(eventName);
        if (!Connected)
        {
            return Task.FromException<AckResponse>(new SocketDisconnectedException());
        }

        var id = Namespace.NextAckId();
        var pending = new SocketAck(this, id);
        lock (_acksLock)
        {
            _acks[id] = pending;
        }

        var encoded = SocketIOPacketEncoder.EncodeEvent(Namespace.Name, eventName, args, id, Server.JsonOptions);
        if (_anyOutgoingListeners.Length > 0)
        {
            NotifyOutgoing(eventName, args.ToArray());
        }

        if (flags.Timeout is { } timeout)
        {
            pending.StartTimer(Server.TimeProvider, timeout);
        }

        if (!Client.Send(encoded, flags.Volatile) && !Connected)
        {
            RemoveAck(id);
            pending.Fail();
        }

        return pending.Task;
    }

    internal static async Task<T?> FirstArg<T>(Task<AckResponse> response) => (await response.ConfigureAwait(false)).Get<T>(0);

    internal void SendAck(long id, ReadOnlySpan<object?> args)
    {
        if (!Connected)
        {
            return;
        }

        var encoded = SocketIOPacketEncoder.EncodeAck(Namespace.Name, id, args, Server.JsonOptions);
        Client.Send(encoded, isVolatile: false);
    }

    /// <summary>
    /// Writes an encoded broadcast to this client (what an <see cref="IAdapter"/> calls for each target when it fans a
    /// packet out): outgoing listeners see it, a socket being restored holds it behind its replay.
    /// </summary>
    /// <param name="packet">The packet, encoded once for all targets.</param>
    /// <param name="flags">The broadcast's flags (<see cref="BroadcastFlags.Volatile"/>: dropped when the connection is not writable now).</param>
    /// <returns>False when it was not sent (the socket is gone, or volatile and not writable).</returns>
    public bool DeliverBroadcast(BroadcastPacket packet, in BroadcastFlags flags)
    {
        if (!Connected)
        {
            return false;
        }

        if (TryHoldForReplay(packet))
        {
            return true;
        }

        if (flags.Volatile)
        {
            // Queued only if the connection is writable now; the Engine.IO layer counts the drops.
            if (!Client.SendVolatile(packet.Messages))
            {
                return false;
            }

            if (_anyOutgoingListeners.Length > 0 && packet.EventName is not null)
            {
                NotifyOutgoing(packet.EventName, packet.Args);
            }

            return true;
        }

        return Send(packet);
    }

    private bool Send(BroadcastPacket packet)
    {
        if (_anyOutgoingListeners.Length > 0 && packet.EventName is not null)
        {
            NotifyOutgoing(packet.EventName, packet.Args);
        }

        return Client.Send(packet.Messages);
    }

    /// <summary>Registers the broadcast's ack id (<see cref="BroadcastPacket.Id"/>) for this socket, then writes it (see <see cref="DeliverBroadcast"/>).</summary>
    /// <param name="packet">The packet, with its ack id.</param>
    /// <param name="flags">The broadcast's flags.</param>
    /// <param name="ack">Called with the client's answer, or with a missing answer when the socket goes away first.</param>
    /// <returns>False when it was not sent; <paramref name="ack"/> is then never called.</returns>
    public bool DeliverBroadcastWithAck(BroadcastPacket packet, in BroadcastFlags flags, Action<AckResponse> ack)
    {
        if (!Connected || (flags.Volatile && !Client.Connection.IsWritable))
        {
            return false;
        }

        lock (_acksLock)
        {
            _acks[packet.Id] = new BroadcastAck(Id, ack);
        }

        if (!DeliverBroadcast(packet, BroadcastFlags.Default))
        {
            RemoveAck(packet.Id);
            return false;
        }

        return true;
    }

    private void OnAck(SocketIOPacket packet)
    {
        PendingAck? pending;
        lock (_acksLock)
        {
            _acks.Remove(packet.Id, out pending);
        }

        if (pending is null)
        {
            // An unknown id (never sent, already answered or timed out) is ignored, as socket.io does.
            SocketIOLog.UnknownAck(Logger, packet.Id, Id);
            packet.Dispose();
            return;
        }

        var response = new AckResponse(Id, packet.Data.Clone(), packet.Attachments, Server.JsonOptions);
        packet.Dispose();
        pending.Complete(response);
    }

    private bool RemoveAck(long id)
    {
        lock (_acksLock)
        {
            return _acks.Remove(id);
        }
    }

    private void FailPendingAcks()
    {
        PendingAck[] pending;
        lock (_acksLock)
        {
            if (_acks.Count == 0)
            {
                return;
            }

            pending = [.. _acks.Values];
            _acks.Clear();
        }

        foreach (var ack in pending)
        {
            ack.Fail();
        }
    }

    private abstract class PendingAck
    {
        public abstract void Complete(AckResponse response);

        public abstract void Fail();
    }

    private sealed class SocketAck(Socket socket, long id) : PendingAck
    {
        private readonly TaskCompletionSource<AckResponse> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ITimer? _timer;

        public Task<AckResponse> Task => _tcs.Task;

        public void StartTimer(TimeProvider time, TimeSpan timeout)
        {
            _timer = time.CreateTimer(static s => ((SocketAck)s!).OnTimeout(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }

        public override void Complete(AckResponse response)
        {
            _timer?.Dispose();
            _tcs.TrySetResult(response);
        }

        public override void Fail()
        {
            _timer?.Dispose();
            _tcs.TrySetException(new SocketDisconnectedException());
        }

        private void OnTimeout()
        {
            socket.RemoveAck(id);
            _timer?.Dispose();
            _tcs.TrySetException(new TimeoutException("The client did not acknowledge the event in time."));
        }
    }

    private sealed class BroadcastAck(string socketId, Action<AckResponse> ack) : PendingAck
    {
        public override void Complete(AckResponse response) => ack(response);

        public override void Fail() => ack(AckResponse.Missing(socketId));
    }
}

/// <summary>Emits to one socket with flags (<see cref="Socket.Timeout"/>, <see cref="Socket.Volatile"/>, <see cref="Socket.Compress"/>); immutable.</summary>
public readonly struct SocketEmitter
{
    private readonly Socket _socket;
    private readonly BroadcastFlags _flags;

    internal SocketEmitter(Socket socket, BroadcastFlags flags)
    {
        _socket = socket;
        _flags = flags;
    }

    /// <summary>The flags.</summary>
    public BroadcastFlags Flags => _flags;

    /// <summary>Adds a timeout to acknowledgements.</summary>
    public SocketEmitter Timeout(TimeSpan timeout) => new(_socket, _flags with { Timeout = timeout });

    /// <summary>Makes the emit volatile.</summary>
    public SocketEmitter Volatile => new(_socket, _flags with { Volatile = true });

    /// <summary>Sets the compress flag.</summary>
    public SocketEmitter Compress(bool compress) => new(_socket, _flags with { Compress = compress });

    /// <summary>Emits the event.</summary>
    public bool Emit(string eventName, params ReadOnlySpan<object?> args) => _socket.EmitCore(eventName, args, _flags);

    /// <summary>Emits and waits for the acknowledgement (<see cref="TimeoutException"/> after the timeout).</summary>
    public Task<AckResponse> EmitWithAckAsync(string eventName, params ReadOnlySpan<object?> args) => _socket.EmitWithAckCore(eventName, args, _flags);

    /// <summary>Emits and returns the first argument of the acknowledgement.</summary>
    public Task<T?> EmitWithAckAsync<T>(string eventName, params ReadOnlySpan<object?> args) => Socket.FirstArg<T>(_socket.EmitWithAckCore(eventName, args, _flags));
}
