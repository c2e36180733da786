using System.Buffers;
using System.Text.Json;
using Herald.Messaging;
using Herald.Protocol.Cluster;
using Herald.Protocol.Sse;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Emitters;

/// <summary>
/// Pushes to SSE clients from any process through the <see cref="IMessageBus"/> (the <c>app.message.sse</c> of
/// SFN): <c>sse.SendAsync(data)</c> reaches every client of every SSE node,
/// <c>sse.Via("web-server-1").To(clientId).EmitAsync("greeting", data)</c> one client of one node,
/// <c>sse.Via(node).To(clientId).CloseAsync()</c> closes it for good.
/// </summary>
/// <remarks>
/// It lives in Herald.Messaging (no ASP.NET Core) beside <see cref="SocketIOEmitter"/>, so a worker process can use it;
/// it is the one place that writes <c>sse-send</c> and <c>sse-close</c> envelopes (the <see cref="Publish.Publisher"/> goes
/// through it too), and Herald.Sse's bus consumer reads them. Delivery is fire and forget like the bus: a client that is not connected to the addressed node is not reached (its topic history on
/// that node still replays it after a reconnect).
/// </remarks>
public sealed class SseEmitter
{
    private readonly IMessageBus _bus;
    private readonly JsonSerializerOptions _json;

    /// <summary>Creates the emitter over <paramref name="bus"/>.</summary>
    /// <param name="bus">The message bus.</param>
    /// <param name="options">Messaging options (their serializer options serialize data objects); default web JSON.</param>
    public SseEmitter(IMessageBus bus, IOptions<HeraldMessagingOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _bus = bus;
        _json = options?.Value.SerializerOptions ?? JsonSerializerOptions.Web;
    }

    /// <summary>Addresses the SSE clients of one node only.</summary>
    /// <param name="nodeName">The node name (<c>web-server-1</c>).</param>
    /// <returns>The operator.</returns>
    public SseEmitterOperator Via(string nodeName) => new SseEmitterOperator(this, null, null).Via(nodeName);

    /// <summary>Addresses client ids or topics (union, each client once).</summary>
    /// <param name="clientIdsOrTopics">Client ids or topic names.</param>
    /// <returns>The operator.</returns>
    public SseEmitterOperator To(params string[] clientIdsOrTopics) => new SseEmitterOperator(this, null, null).To(clientIdsOrTopics);

    /// <summary>Sends a <c>message</c> event to every SSE client of every node.</summary>
    /// <param name="data">Strings are sent as-is, other objects as JSON.</param>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask SendAsync(object? data, CancellationToken cancellationToken = default)
        => PublishAsync(null, null, null, ClusterEnvelopeKinds.SseSend, null, data, cancellationToken);

    /// <summary>Sends a named event to every SSE client of every node.</summary>
    /// <param name="eventName">The event type.</param>
    /// <param name="data">Strings are sent as-is, other objects as JSON.</param>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask EmitAsync(string eventName, object? data = null, CancellationToken cancellationToken = default)
        => PublishAsync(null, null, null, ClusterEnvelopeKinds.SseSend, eventName, data, cancellationToken);

    /// <summary>Closes every SSE client of every node, for good.</summary>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask CloseAsync(CancellationToken cancellationToken = default)
        => PublishAsync(null, null, null, ClusterEnvelopeKinds.SseClose, null, null, cancellationToken);

    /// <summary>Throws when <paramref name="eventName"/> cannot be an SSE event type (empty, or with CR, LF or NUL).</summary>
    internal static void ThrowIfInvalidEventName(string? eventName)
    {
        if (eventName is not null && (eventName.Length == 0 || !SseFrameWriter.IsValidField(eventName)))
        {
            throw new ArgumentException("An event name is not empty and has no CR, LF or NUL.", nameof(eventName));
        }
    }

    /// <summary>
    /// Publishes one SSE envelope: to every node, or to <paramref name="node"/>'s channel; to the clients in any of
    /// <paramref name="targets"/> (client ids or topics; all when empty) that are in none of <paramref name="except"/>.
    /// </summary>
    internal ValueTask PublishAsync(string? node, string[]? targets, string[]? except, string kind, string? eventName, object? data, CancellationToken cancellationToken)
    {
        ThrowIfInvalidEventName(eventName);

        ReadOnlyMemory<byte> packet = default;
        if (kind == ClusterEnvelopeKinds.SseSend)
        {
            var buffer = new ArrayBufferWriter<byte>(128);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                if (eventName is not null)
                {
                    json.WriteString("event"u8, eventName);
                }

                if (data is not null)
                {
                    json.WritePropertyName("data"u8);
                    JsonSerializer.Serialize(json, data, data.GetType(), _json);
                }

                json.WriteEndObject();
            }

            packet = buffer.WrittenMemory;
        }

        var envelope = new ClusterEnvelope
        {
            Source = _bus.NodeName,
            Target = node,
            Kind = kind,
            Rooms = targets ?? [],
            Except = except ?? [],
            Packet = packet,
        };
        var channel = node is null ? SseBusChannels.All : SseBusChannels.ForNode(node);
        return _bus.PublishAsync(channel, ClusterEnvelopeCodec.Encode(envelope), cancellationToken);
    }
}

/// <summary>An addressed SSE publication through the bus: chain <see cref="Via"/> and <see cref="To"/>, then send, emit or close.</summary>
public readonly struct SseEmitterOperator
{
    private readonly SseEmitter? _emitter;
    private readonly string? _node;
    private readonly string[]? _targets;

    internal SseEmitterOperator(SseEmitter emitter, string? node, string[]? targets)
    {
        _emitter = emitter;
        _node = node;
        _targets = targets;
    }

    /// <summary>Restricts to the clients of one node.</summary>
    /// <param name="nodeName">The node name.</param>
    /// <returns>The operator.</returns>
    public SseEmitterOperator Via(string nodeName)
    {
        if (!HeraldNode.IsValidName(nodeName))
        {
            throw new ArgumentException($"'{nodeName}' is not a valid node name.", nameof(nodeName));
        }

        return new SseEmitterOperator(Emitter, nodeName, _targets);
    }

    /// <summary>Adds client ids or topics (union, each client once).</summary>
    /// <param name="clientIdsOrTopics">Client ids or topic names.</param>
    /// <returns>The operator.</returns>
    public SseEmitterOperator To(params string[] clientIdsOrTopics)
    {
        ArgumentNullException.ThrowIfNull(clientIdsOrTopics);
        foreach (var t in clientIdsOrTopics)
        {
            ArgumentException.ThrowIfNullOrEmpty(t, nameof(clientIdsOrTopics));
        }

        string[] targets = _targets is null ? [.. clientIdsOrTopics] : [.. _targets, .. clientIdsOrTopics];
        return new SseEmitterOperator(Emitter, _node, targets);
    }

    /// <summary>Sends a <c>message</c> event.</summary>
    /// <param name="data">Strings are sent as-is, other objects as JSON.</param>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask SendAsync(object? data, CancellationToken cancellationToken = default)
        => Emitter.PublishAsync(_node, _targets, null, ClusterEnvelopeKinds.SseSend, null, data, cancellationToken);

    /// <summary>Sends a named event.</summary>
    /// <param name="eventName">The event type.</param>
    /// <param name="data">Strings are sent as-is, other objects as JSON.</param>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask EmitAsync(string eventName, object? data = null, CancellationToken cancellationToken = default)
        => Emitter.PublishAsync(_node, _targets, null, ClusterEnvelopeKinds.SseSend, eventName, data, cancellationToken);

    /// <summary>Closes the addressed clients for good (their reconnect gets 204).</summary>
    /// <param name="cancellationToken">Cancels before the bus takes it.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask CloseAsync(CancellationToken cancellationToken = default)
        => Emitter.PublishAsync(_node, _targets, null, ClusterEnvelopeKinds.SseClose, null, null, cancellationToken);

    private SseEmitter Emitter => _emitter ?? throw new InvalidOperationException("Use SseEmitter.Via(...) or To(...).");
}
