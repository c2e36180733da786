using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Protocol.Cluster;
using Herald.Protocol.SocketIO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Emitters;

/// <summary>
/// Pushes Socket.IO events to browsers from any process, web server or not (SFN's <c>app.message.ws</c>):
/// <c>ws.EmitAsync("greeting", "Hello")</c> reaches every client of every node,
/// <c>ws.Via("web-server-1").Of("/orders").To("room").Except("x").Volatile.EmitAsync("ev", args)</c> the clients of
/// room <c>room</c> of namespace <c>/orders</c> on <c>web-server-1</c> that are not in <c>x</c>.
/// </summary>
/// <remarks>
/// <para>It publishes the cluster envelope that the Socket.IO cluster adapter consumes (kind <c>broadcast</c> or
/// <c>broadcast-ack</c>) on the bus channel of the namespace, or of the node given to <see cref="Via"/>, so a worker
/// with only Herald.Messaging (plus a bus such as Herald.Redis) reaches browsers. The event is encoded once per
/// call, whatever the number of nodes and clients.</para>
/// <para>Its envelopes carry the source <c>{node}/ws</c> (<see cref="SourceName"/>): a node ignores its own
/// adapter's publications, not its emitter's, so an emitter running inside a web server reaches that server's
/// clients too.</para>
/// </remarks>
public sealed partial class SocketIOEmitter : IAsyncDisposable
{
    private readonly IMessageBus _bus;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task<AckChannel>> _ackChannels = new(StringComparer.Ordinal);
    private readonly byte[] _publicationPrefix = NewPublicationPrefix();
    private long _publications;

    /// <summary>Creates the emitter over <paramref name="bus"/>.</summary>
    /// <param name="bus">The message bus shared with the web servers.</param>
    /// <param name="options">Messaging options: their serializer options serialize the arguments (web defaults).</param>
    /// <param name="wsOptions">Emitter options (channel prefix, default ack timeout).</param>
    /// <param name="logger">The logger.</param>
    public SocketIOEmitter(IMessageBus bus, IOptions<HeraldMessagingOptions>? options = null, IOptions<SocketIOEmitterOptions>? wsOptions = null, ILogger<SocketIOEmitter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _bus = bus;
        Options = wsOptions?.Value ?? new SocketIOEmitterOptions();
        JsonOptions = SocketIOJson.CreateOptions(options?.Value.SerializerOptions);
        SourceName = bus.NodeName + "/ws";
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        All = new SocketIOEmitterOperator(this, "/", null, [], [], ClusterEnvelopeFlags.None, null);
    }

    /// <summary>The source name of this emitter's envelopes: <c>{node}/ws</c>.</summary>
    public string SourceName { get; }

    /// <summary>The settings.</summary>
    public SocketIOEmitterOptions Options { get; }

    /// <summary>The serializer options for arguments (binary-aware: <c>byte[]</c> become attachments).</summary>
    public JsonSerializerOptions JsonOptions { get; }

    internal IMessageBus Bus => _bus;

    /// <summary>Everyone in the main namespace <c>/</c> of every node.</summary>
    public SocketIOEmitterOperator All { get; }

    /// <summary>Only the clients of node <paramref name="nodeName"/> (envelope <c>target</c>).</summary>
    /// <param name="nodeName">The node name (<c>web-server-1</c>).</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Via(string nodeName) => All.Via(nodeName);

    /// <summary>The clients of namespace <paramref name="ns"/> (a leading <c>/</c> is added when missing).</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Of(string ns) => All.Of(ns);

    /// <summary>The clients in any of <paramref name="rooms"/> (a socket id is a room).</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator To(params string[] rooms) => All.To(rooms);

    /// <summary>Same as <see cref="To"/>.</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator In(params string[] rooms) => All.To(rooms);

    /// <summary>Everyone but the clients in <paramref name="rooms"/>.</summary>
    /// <param name="rooms">Rooms or socket ids.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Except(params string[] rooms) => All.Except(rooms);

    /// <summary>May be dropped for clients that cannot take it right now.</summary>
    public SocketIOEmitterOperator Volatile => All.Volatile;

    /// <summary>Only the clients of the node this emitter runs on.</summary>
    public SocketIOEmitterOperator Local => All.Local;

    /// <summary>Marks the event as carrying binary (carried as the <c>binary</c> flag; attachments are detected anyway).</summary>
    public SocketIOEmitterOperator Binary => All.Binary;

    /// <summary>Sets the <c>compress</c> flag.</summary>
    /// <param name="compress">Whether the transport may compress it.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Compress(bool compress) => All.Compress(compress);

    /// <summary>Sets how long <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/> waits.</summary>
    /// <param name="timeout">The timeout.</param>
    /// <returns>The operator.</returns>
    public SocketIOEmitterOperator Timeout(TimeSpan timeout) => All.Timeout(timeout);

    /// <summary>Emits <c>[eventName, ...args]</c> to every client of <c>/</c> on every node.</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments (JSON-serialised; <c>byte[]</c> become binary attachments).</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask EmitAsync(string eventName, params object?[] args) => All.EmitAsync(eventName, args);

    /// <summary>Emits to every client of <c>/</c> and collects their acknowledgements (see <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/>).</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The acknowledgements.</returns>
    public Task<IReadOnlyList<SocketIOEmitterAckResponse>> EmitWithAckAsync(string eventName, params object?[] args) => All.EmitWithAckAsync(eventName, args);

    /// <summary>Unsubscribes the answer channels opened by <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/>.</summary>
    /// <returns>A task completing once unsubscribed.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _ackChannels.Values)
        {
            if (channel.IsCompletedSuccessfully)
            {
                await channel.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        _ackChannels.Clear();
    }

    internal static void ThrowIfReserved(string eventName)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        if (eventName is "connect" or "connect_error" or "disconnect" or "disconnecting" or "newListener" or "removeListener")
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }

    internal ClusterEnvelope BuildEnvelope(SocketIOEmitterOperator op, string kind, string eventName, object?[] args, string? requestId, int? ackTimeout)
    {
        ThrowIfReserved(eventName);
        var encoded = SocketIOPacketEncoder.EncodeEvent(op.Namespace, eventName, args, -1, JsonOptions, enginePrefix: false);
        var flags = op.Flags;
        if (encoded.Attachments.Length > 0)
        {
            flags |= ClusterEnvelopeFlags.Binary;
        }

        return new ClusterEnvelope
        {
            Source = SourceName,
            Target = op.Target,
            Kind = kind,
            Namespace = op.Namespace,
            Rooms = op.Rooms,
            Except = op.ExceptRooms,
            Flags = flags & ~ClusterEnvelopeFlags.Local,
            RequestId = requestId,
            AckTimeoutMilliseconds = ackTimeout,
            Data = kind == ClusterEnvelopeKinds.Broadcast && (flags & ClusterEnvelopeFlags.Volatile) == 0 ? NextPublicationId() : default,
            Packet = ClusterSocketIOPacket.ToEnvelopePacket(encoded.Text, op.Namespace, enginePrefix: false),
            Attachments = encoded.Attachments,
        };
    }

    /// <summary>
    /// <c>{"id":"&lt;emitter&gt;-&lt;n&gt;"}</c>: the same on every node, so a node with connection-state recovery on
    /// logs the event under it (and appends it to the arguments as the offset) and a client can recover it anywhere.
    /// </summary>
    private byte[] NextPublicationId()
    {
        var n = Interlocked.Increment(ref _publications);
        Span<byte> digits = stackalloc byte[20];
        n.TryFormat(digits, out var length, provider: System.Globalization.CultureInfo.InvariantCulture);
        ReadOnlySpan<byte> open = "{\"id\":\""u8;
        var result = new byte[open.Length + _publicationPrefix.Length + length + 2];
        open.CopyTo(result);
        _publicationPrefix.CopyTo(result.AsSpan(open.Length));
        digits[..length].CopyTo(result.AsSpan(open.Length + _publicationPrefix.Length));
        result[^2] = (byte)'"';
        result[^1] = (byte)'}';
        return result;
    }

    internal string ChannelOf(SocketIOEmitterOperator op)
        => op.Target is null ? SocketIOChannels.ForNamespace(Options.ChannelPrefix, op.Namespace) : SocketIOChannels.ForNode(Options.ChannelPrefix, op.Namespace, op.Target);

    internal async ValueTask PublishAsync(string channel, ClusterEnvelope envelope)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        ClusterEnvelopeCodec.Write(buffer, envelope);
        await _bus.PublishAsync(channel, buffer.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>The answer channel of a namespace (<c>sio:{nsp}:{node}/ws</c>), subscribed on first use.</summary>
    internal Task<AckChannel> GetAckChannelAsync(string ns)
    {
        var task = _ackChannels.GetOrAdd(ns, n => AckChannel.OpenAsync(this, n, _logger));
        if (task.IsFaulted || task.IsCanceled)
        {
            _ackChannels.TryRemove(new KeyValuePair<string, Task<AckChannel>>(ns, task));
        }

        return task;
    }

    // 48 random bits, url-safe: publication ids of two emitters never meet (nor a node's own offsets, same shape).
    private static byte[] NewPublicationPrefix()
    {
        Span<byte> random = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        return System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(random).Replace('+', '-').Replace('/', '_') + "-");
    }
}

/// <summary>Settings of <see cref="SocketIOEmitter"/>.</summary>
public sealed class SocketIOEmitterOptions
{
    /// <summary>The bus channel prefix, the same as the cluster adapters' (default <c>sio</c>).</summary>
    public string ChannelPrefix { get; set; } = SocketIOChannels.DefaultPrefix;

    /// <summary>How long <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/> waits when no <c>Timeout</c> was given (default 5 s).</summary>
    public TimeSpan DefaultAckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of ack timeouts.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
