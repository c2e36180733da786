using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Herald.Internal;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.SocketIO.Cluster;

/// <summary>
/// An <see cref="IAdapter"/> that makes every node of a cluster behave like one server: it keeps the local room
/// index of <see cref="InMemoryAdapter"/> and carries broadcasts, room changes, disconnections, socket queries,
/// acknowledgements and server-side events to the other nodes as cluster envelopes over an
/// <see cref="IMessageBus"/> (in memory, Redis, a peer link).
/// </summary>
/// <remarks>
/// <para>Channels (see <see cref="SocketIOChannels"/>): <c>sio:{nsp}</c> for what concerns every node, <c>sio:{nsp}:{node}</c>
/// for what concerns one node. A broadcast is delivered to local clients first (synchronously: local delivery never
/// waits for, nor stops with, the bus), then published once; every other node filters it against its own room
/// index and, only when it has a target, turns the envelope into client bytes once and writes them to each target.
/// <c>Local</c> broadcasts are never published.</para>
/// <para>Liveness: each node publishes a <c>heartbeat</c> every <see cref="ClusterAdapterOptions.HeartbeatInterval"/>
/// and answers a newcomer's first heartbeat at once; a node silent for <see cref="ClusterAdapterOptions.HeartbeatTimeout"/>
/// (or that said <c>node-close</c>) is dropped, and requests waiting for it stop waiting.</para>
/// </remarks>
public partial class ClusterAdapter : InMemoryAdapter
{
    private readonly IMessageBus _bus;
    private readonly ClusterAdapterOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _allChannel;
    private readonly string _nodeChannel;
    private readonly string _requestPrefix;
    private readonly ConcurrentDictionary<string, long> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingRequest> _requests = new(StringComparer.Ordinal);
    private IAsyncDisposable? _allSubscription;
    private IAsyncDisposable? _nodeSubscription;
    private ITimer? _heartbeatTimer;
    private long _requestIds;
    private int _closed;

    /// <summary>Creates the adapter of <paramref name="ns"/> over <paramref name="bus"/>; <see cref="InitAsync"/> subscribes.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="bus">The message bus shared by the nodes; its <see cref="IMessageBus.NodeName"/> names this node.</param>
    /// <param name="options">The settings.</param>
    /// <param name="loggerFactory">Logging.</param>
    public ClusterAdapter(Namespace ns, IMessageBus bus, ClusterAdapterOptions? options = null, ILoggerFactory? loggerFactory = null)
        : base(ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(bus);
        _bus = bus;
        _options = options ?? new ClusterAdapterOptions();
        _logger = (ILogger?)loggerFactory?.CreateLogger<ClusterAdapter>() ?? NullLogger.Instance;
        _time = ns.Server.TimeProvider;
        NodeName = bus.NodeName;
        _allChannel = SocketIOChannels.ForNamespace(_options.ChannelPrefix, ns.Name);
        _nodeChannel = SocketIOChannels.ForNode(_options.ChannelPrefix, ns.Name, NodeName);
        Span<byte> random = stackalloc byte[6];
        RandomNumberGenerator.Fill(random);
        _requestPrefix = NodeName + ":" + Convert.ToHexStringLower(random) + ":";
    }

    /// <summary>The name of this node (the bus's <see cref="IMessageBus.NodeName"/>).</summary>
    public string NodeName { get; }

    /// <summary>The other nodes serving this namespace that are alive (seen within the heartbeat timeout).</summary>
    public IReadOnlyCollection<string> Nodes => [.. _nodes.Keys];

    /// <summary>Raised (on a bus or timer thread) when a node comes up or goes away.</summary>
    public event Action? NodesChanged;

    /// <summary>A task that completes once the bus subscriptions are in place.</summary>
    public Task Ready { get; private set; } = Task.CompletedTask;

    /// <inheritdoc />
    public override ValueTask InitAsync()
    {
        var ready = SubscribeAsync();
        Ready = ready;
        return new ValueTask(ready);
    }

    private async Task SubscribeAsync()
    {
        try
        {
            _allSubscription = await _bus.SubscribeAsync(_allChannel, OnMessage).ConfigureAwait(false);
            _nodeSubscription = await _bus.SubscribeAsync(_nodeChannel, OnMessage).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ClusterAdapterLog.SubscribeFailed(_logger, Namespace.Name, e);
            throw;
        }

        if (Volatile.Read(ref _closed) != 0)
        {
            await UnsubscribeAsync().ConfigureAwait(false);
            return;
        }

        _bus.StateChanged += OnBusStateChanged;
        _heartbeatTimer = _time.CreateTimer(static s => ((ClusterAdapter)s!).OnHeartbeatTimer(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
        PublishHeartbeat();
    }

    /// <inheritdoc />
    /// <remarks>
    /// A broadcast is delivered to the local sockets and published once on the namespace channel; every other node
    /// filters it against its own room index. A recoverable one (recovery on) is published first and delivered here
    /// when its echo comes back, so every node logs it in bus order (see ClusterAdapter.Recovery.cs).
    /// </remarks>
    public override void Broadcast(BroadcastPacket packet, BroadcastOptions options)
    {
        if (options.Flags.Local || Recovery is not { } recovery || !packet.CanStamp || !packet.IsRecoverable(options))
        {
            base.Broadcast(packet, options);
            if (!options.Flags.Local)
            {
                Publish(_allChannel, BroadcastEnvelope(ClusterEnvelopeKinds.Broadcast, packet, options, null, null));
            }

            return;
        }

        recovery.Stamp(packet);
        var envelope = BroadcastEnvelope(ClusterEnvelopeKinds.Broadcast, packet, options, null, null);
        if (_bus.State == MessageBusState.Connected)
        {
            _inFlight[packet.Offset!] = new InFlight(packet, options, _time.GetTimestamp());
            _ = PublishRecoverableAsync(envelope, packet.Offset!);
            return;
        }

        DeliverOwn(packet, options);
        Publish(_allChannel, envelope);
    }

    /// <inheritdoc />
    public override void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        base.AddSockets(options, rooms);
        if (!options.Flags.Local)
        {
            Publish(_allChannel, RoomsEnvelope(ClusterEnvelopeKinds.SocketsJoin, options, rooms, null));
        }
    }

    /// <inheritdoc />
    public override void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        base.DelSockets(options, rooms);
        if (!options.Flags.Local)
        {
            Publish(_allChannel, RoomsEnvelope(ClusterEnvelopeKinds.SocketsLeave, options, rooms, null));
        }
    }

    /// <inheritdoc />
    public override void DisconnectSockets(BroadcastOptions options, bool close)
    {
        base.DisconnectSockets(options, close);
        if (!options.Flags.Local)
        {
            Publish(_allChannel, DisconnectEnvelope(options, close, null));
        }
    }

    /// <inheritdoc />
    public override void ServerSideEmit(string eventName, object?[] args)
    {
        var packet = new BroadcastPacket(Namespace.Name, eventName, args, -1, Namespace.Server.JsonOptions);
        Publish(_allChannel, BroadcastEnvelope(ClusterEnvelopeKinds.ServerSideEmit, packet, new BroadcastOptions([], [], BroadcastFlags.Default), null, null));
    }

    /// <inheritdoc />
    public override ValueTask<int> ServerCountAsync() => new(_nodes.Count + 1);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ = CloseAsync();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Leaves the cluster: tells the other nodes (<c>node-close</c>), stops heartbeats, unsubscribes and fails
    /// the requests still waiting. Called when the host stops; idempotent.
    /// </summary>
    /// <returns>A task completing once unsubscribed.</returns>
    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _bus.StateChanged -= OnBusStateChanged;
        _heartbeatTimer?.Dispose();
        await PublishAsync(_allChannel, new ClusterEnvelope { Source = NodeName, Kind = ClusterEnvelopeKinds.NodeClose, Namespace = Namespace.Name }).ConfigureAwait(false);
        await UnsubscribeAsync().ConfigureAwait(false);
        foreach (var request in _requests.Values)
        {
            request.Fail(new ObjectDisposedException(nameof(ClusterAdapter)));
        }

        _requests.Clear();
    }

    private async Task UnsubscribeAsync()
    {
        foreach (var subscription in new[] { Interlocked.Exchange(ref _allSubscription, null), Interlocked.Exchange(ref _nodeSubscription, null) })
        {
            if (subscription is null)
            {
                continue;
            }

            try
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MessageBusException or ObjectDisposedException or OperationCanceledException or IOException)
            {
                // The bus is going away too: nothing left to unsubscribe from.
            }
        }
    }

    private string NextRequestId() => _requestPrefix + Interlocked.Increment(ref _requestIds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal string ChannelOf(string node) => SocketIOChannels.ForNode(_options.ChannelPrefix, Namespace.Name, node);

    /// <summary>Publishes without waiting; false when the bus cannot take it now (then only this node acts).</summary>
    internal bool Publish(string channel, ClusterEnvelope envelope)
    {
        var state = _bus.State;
        if (state is MessageBusState.Disposed
            || (state is not MessageBusState.Connected && envelope.Kind == ClusterEnvelopeKinds.Heartbeat)
            || (state is MessageBusState.Disconnected && _bus is not IBufferingMessageBus { BuffersWhileDisconnected: true }))
        {
            ClusterAdapterLog.PublishSkipped(_logger, Namespace.Name, state.ToString(), envelope.Kind);
            return false;
        }

        _ = PublishAsync(channel, envelope); // never throws: failures are logged
        return true;
    }

    private async Task PublishAsync(string channel, ClusterEnvelope envelope)
    {
        // One encoding per publication, into a pooled buffer that the bus no longer needs once the publish completed.
        var buffer = new PooledBufferWriter(1024);
        try
        {
            ClusterEnvelopeCodec.Write(buffer, envelope);
            await _bus.PublishAsync(channel, buffer.WrittenMemory).ConfigureAwait(false);
        }
        catch (MessageBusException e)
        {
            // The bus says why (Redis unreachable, not reached yet): a line, not a stack trace; the bus logs the outage.
            ClusterAdapterLog.PublishUnavailable(_logger, Namespace.Name, envelope.Kind, e.Message);
        }
        catch (Exception e)
        {
            ClusterAdapterLog.PublishFailed(_logger, Namespace.Name, envelope.Kind, e);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    private ClusterEnvelope BroadcastEnvelope(string kind, BroadcastPacket packet, BroadcastOptions options, string? target, string? requestId)
    {
        var messages = packet.Messages;
        var attachments = messages.Length == 1 ? [] : new ReadOnlyMemory<byte>[messages.Length - 1];
        for (var i = 1; i < messages.Length; i++)
        {
            attachments[i - 1] = messages[i].Payload;
        }

        var flags = ClusterEnvelopeFlags.None;
        if (options.Flags.Volatile)
        {
            flags |= ClusterEnvelopeFlags.Volatile;
        }

        if (options.Flags.Compress)
        {
            flags |= ClusterEnvelopeFlags.Compress;
        }

        if (attachments.Length > 0)
        {
            flags |= ClusterEnvelopeFlags.Binary;
        }

        return new ClusterEnvelope
        {
            Source = NodeName,
            Target = target,
            Kind = kind,
            Namespace = Namespace.Name,
            Rooms = options.Rooms,
            Except = options.Except,
            Flags = flags,
            RequestId = requestId,
            AckTimeoutMilliseconds = options.Flags.Timeout is { } t ? (int)Math.Min(int.MaxValue, t.TotalMilliseconds) : null,
            Data = packet.Offset is { } offset ? OffsetData(offset) : default,
            Packet = ClusterSocketIOPacket.ToEnvelopePacket(messages[0].Payload.Span, packet.Namespace),
            Attachments = attachments,
        };
    }

    private ClusterEnvelope RoomsEnvelope(string kind, BroadcastOptions options, IReadOnlyCollection<string> rooms, string? target)
        => new()
        {
            Source = NodeName,
            Target = target,
            Kind = kind,
            Namespace = Namespace.Name,
            Rooms = options.Rooms,
            Except = options.Except,
            Data = ClusterJson.RoomsData(rooms),
        };

    private ClusterEnvelope DisconnectEnvelope(BroadcastOptions options, bool close, string? target)
        => new()
        {
            Source = NodeName,
            Target = target,
            Kind = ClusterEnvelopeKinds.DisconnectSockets,
            Namespace = Namespace.Name,
            Rooms = options.Rooms,
            Except = options.Except,
            Data = close ? "{\"close\":true}"u8.ToArray() : default,
        };

    /// <summary>Emits to one socket of another node (its own room), through that node's channel.</summary>
    internal void EmitToRemote(string node, string socketId, string eventName, object?[] args)
    {
        var packet = new BroadcastPacket(Namespace.Name, eventName, args, -1, Namespace.Server.JsonOptions);
        Publish(ChannelOf(node), BroadcastEnvelope(ClusterEnvelopeKinds.Broadcast, packet, new BroadcastOptions([socketId], [], BroadcastFlags.Default), node, null));
    }

    /// <summary>Makes one socket of another node join or leave rooms.</summary>
    internal void RoomsOfRemote(string node, string socketId, bool join, IReadOnlyCollection<string> rooms)
        => Publish(ChannelOf(node), RoomsEnvelope(join ? ClusterEnvelopeKinds.SocketsJoin : ClusterEnvelopeKinds.SocketsLeave, new BroadcastOptions([socketId], [], BroadcastFlags.Default), rooms, node));

    /// <summary>Disconnects one socket of another node.</summary>
    internal void DisconnectRemote(string node, string socketId, bool close)
        => Publish(ChannelOf(node), DisconnectEnvelope(new BroadcastOptions([socketId], [], BroadcastFlags.Default), close, node));
}
