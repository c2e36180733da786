using Herald.Protocol.Cluster;

namespace Herald.Messaging.Emitters;

/// <summary>
/// An addressed push through a <see cref="SocketIOEmitter"/> (immutable: every call returns a new operator):
/// <c>ws.Via("web-server-1").Of("/orders").To("room").Except("x").Volatile.EmitAsync("ev", args)</c>.
/// </summary>
public sealed class SocketIOEmitterOperator
{
    private readonly SocketIOEmitter _emitter;

    internal SocketIOEmitterOperator(SocketIOEmitter emitter, string ns, string? target, string[] rooms, string[] except, ClusterEnvelopeFlags flags, TimeSpan? timeout)
    {
        _emitter = emitter;
        Namespace = ns;
        Target = target;
        Rooms = rooms;
        ExceptRooms = except;
        Flags = flags;
        AckTimeout = timeout;
    }

    /// <summary>The namespace (default <c>/</c>).</summary>
    public string Namespace { get; }

    /// <summary>The only node that delivers (envelope <c>target</c>), or null for every node.</summary>
    public string? Target { get; }

    /// <summary>The target rooms (every client of the namespace when empty).</summary>
    public IReadOnlyList<string> Rooms { get; }

    /// <summary>The excluded rooms.</summary>
    public IReadOnlyList<string> ExceptRooms { get; }

    /// <summary>The envelope flags.</summary>
    public ClusterEnvelopeFlags Flags { get; }

    /// <summary>The timeout of <see cref="EmitWithAckAsync"/>, when set.</summary>
    public TimeSpan? AckTimeout { get; }

    /// <summary>Only the clients of node <paramref name="nodeName"/>.</summary>
    /// <param name="nodeName">The node name.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Via(string nodeName)
    {
        if (!HeraldNode.IsValidName(nodeName))
        {
            throw new ArgumentException($"'{nodeName}' is not a valid node name.", nameof(nodeName));
        }

        return new(_emitter, Namespace, nodeName, [.. Rooms], [.. ExceptRooms], Flags, AckTimeout);
    }

    /// <summary>The clients of namespace <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace (a leading <c>/</c> is added when missing).</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Of(string ns) => new(_emitter, SocketIOChannels.NormalizeNamespace(ns), Target, [.. Rooms], [.. ExceptRooms], Flags, AckTimeout);

    /// <summary>Also the clients in <paramref name="rooms"/> (union; a socket id is a room).</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator To(params string[] rooms) => new(_emitter, Namespace, Target, Union(Rooms, rooms), [.. ExceptRooms], Flags, AckTimeout);

    /// <summary>Same as <see cref="To"/>.</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator In(params string[] rooms) => To(rooms);

    /// <summary>Skips the clients in <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Except(params string[] rooms) => new(_emitter, Namespace, Target, [.. Rooms], Union(ExceptRooms, rooms), Flags, AckTimeout);

    /// <summary>May be dropped for clients that cannot take it right now.</summary>
    public SocketIOEmitterOperator Volatile => With(ClusterEnvelopeFlags.Volatile, true);

    /// <summary>Only the clients of the node this emitter runs on (<c>Via(own node)</c>).</summary>
    public SocketIOEmitterOperator Local => new SocketIOEmitterOperator(_emitter, Namespace, _emitter.Bus.NodeName, [.. Rooms], [.. ExceptRooms], Flags | ClusterEnvelopeFlags.Local, AckTimeout);

    /// <summary>Marks the event as binary (the <c>binary</c> flag; attachments are detected anyway).</summary>
    public SocketIOEmitterOperator Binary => With(ClusterEnvelopeFlags.Binary, true);

    /// <summary>Sets the <c>compress</c> flag.</summary>
    /// <param name="compress">Whether the transport may compress it.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Compress(bool compress) => With(ClusterEnvelopeFlags.Compress, compress);

    /// <summary>Sets how long <see cref="EmitWithAckAsync"/> waits.</summary>
    /// <param name="timeout">The timeout.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Timeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return new(_emitter, Namespace, Target, [.. Rooms], [.. ExceptRooms], Flags, timeout);
    }

    /// <summary>Publishes <c>[eventName, ...args]</c> once (one <c>broadcast</c> envelope, whatever the number of nodes and clients).</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments (JSON-serialised; <c>byte[]</c> become binary attachments).</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        var envelope = _emitter.BuildEnvelope(this, ClusterEnvelopeKinds.Broadcast, eventName, args ?? [null], null, null);
        return _emitter.PublishAsync(_emitter.ChannelOf(this), envelope);
    }

    /// <summary>
    /// Publishes a <c>broadcast-ack</c> and collects the clients' acknowledgements from every node. It completes
    /// once every node it knows of (the <see cref="Via"/> node, or the nodes whose heartbeats it has seen on the
    /// namespace channel) has sent its client count and that many answers; nodes it did not know of are counted
    /// when they answer. At the timeout (<see cref="Timeout"/>, default <see cref="SocketIOEmitterOptions.DefaultAckTimeout"/>)
    /// it returns what arrived if every answering node is complete, otherwise throws <see cref="SocketIOEmitterAckTimeoutException"/>
    /// with the partial answers.
    /// </summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The acknowledgements.</returns>
    public async Task<IReadOnlyList<SocketIOEmitterAckResponse>> EmitWithAckAsync(string eventName, params object?[] args)
    {
        var channel = await _emitter.GetAckChannelAsync(Namespace).ConfigureAwait(false);
        var timeout = AckTimeout ?? _emitter.Options.DefaultAckTimeout;
        using var request = channel.Start(Target, timeout, out var requestId);
        try
        {
            var envelope = _emitter.BuildEnvelope(this, ClusterEnvelopeKinds.BroadcastWithAck, eventName, args ?? [null], requestId, (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds));
            await _emitter.PublishAsync(_emitter.ChannelOf(this), envelope).ConfigureAwait(false);
            return await request.Task.ConfigureAwait(false);
        }
        finally
        {
            channel.End(requestId);
        }
    }

    private SocketIOEmitterOperator With(ClusterEnvelopeFlags flag, bool on)
        => new(_emitter, Namespace, Target, [.. Rooms], [.. ExceptRooms], on ? Flags | flag : Flags & ~flag, AckTimeout);

    private static string[] Union(IReadOnlyList<string> current, string[] more)
    {
        ArgumentNullException.ThrowIfNull(more);
        // A set beside the list keeps the union linear: a list's Contains made 100,000 rooms cost 16 s (issue 13).
        var result = new List<string>(current.Count + more.Length);
        var seen = new HashSet<string>(current.Count + more.Length, StringComparer.Ordinal);
        foreach (var room in current)
        {
            if (seen.Add(room))
            {
                result.Add(room);
            }
        }

        foreach (var room in more)
        {
            ArgumentException.ThrowIfNullOrEmpty(room, nameof(more));
            if (seen.Add(room))
            {
                result.Add(room);
            }
        }

        return [.. result];
    }
}
