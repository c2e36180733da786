using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Sse.Cluster;

/// <summary>
/// Delivers the SSE envelopes of the bus (<see cref="SseBusChannels"/>) to this node's <see cref="SseServer"/>:
/// <c>sse-send</c> becomes a local send/emit to the envelope's rooms (or everyone), <c>sse-close</c> a local close.
/// Bad envelopes are logged and dropped; nothing a publisher sends can throw into the bus.
/// </summary>
public sealed class SseBusConsumer : IHostedService, IAsyncDisposable
{
    private readonly SseServer _server;
    private readonly IMessageBus _bus;
    private readonly ILogger _logger;
    private readonly ClusterEnvelopeLimits _limits;
    private IAsyncDisposable? _all;
    private IAsyncDisposable? _node;

    /// <summary>Creates the consumer.</summary>
    /// <param name="server">The local SSE server.</param>
    /// <param name="bus">The message bus.</param>
    /// <param name="logger">The logger.</param>
    public SseBusConsumer(SseServer server, IMessageBus bus, ILogger<SseBusConsumer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(bus);
        _server = server;
        _bus = bus;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _limits = new ClusterEnvelopeLimits { MaxRooms = 10_000, MaxEnvelopeSize = 16 * 1024 * 1024 };
    }

    /// <summary>Subscribes to <c>sse</c> and <c>sse:{node}</c>.</summary>
    /// <param name="cancellationToken">Cancels the subscription.</param>
    /// <returns>A task completing once both subscriptions are in place.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _all = await _bus.SubscribeAsync(SseBusChannels.All, OnMessage, cancellationToken);
        _node = await _bus.SubscribeAsync(SseBusChannels.ForNode(_bus.NodeName), OnMessage, cancellationToken);
    }

    /// <summary>Unsubscribes.</summary>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A task completing once unsubscribed.</returns>
    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _all, null) is { } all)
        {
            await all.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _node, null) is { } node)
        {
            await node.DisposeAsync();
        }
    }

    private ValueTask OnMessage(BusMessage message)
    {
        try
        {
            Handle(message.Channel, message.Payload.Span);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or InvalidOperationException)
        {
            SseBusLog.BadEnvelope(_logger, message.Channel, e.Message);
        }

        return ValueTask.CompletedTask;
    }

    internal void Handle(string channel, ReadOnlySpan<byte> payload)
    {
        if (!ClusterEnvelopeCodec.TryParse(payload, out var envelope, out var error, _limits))
        {
            SseBusLog.BadEnvelope(_logger, channel, error);
            return;
        }

        if (!envelope.IsFor(_bus.NodeName))
        {
            return;
        }

        string[]? targets = envelope.Rooms.Count == 0 ? null : [.. envelope.Rooms];
        string[]? except = envelope.Except.Count == 0 ? null : [.. envelope.Except];
        switch (envelope.Kind)
        {
            case ClusterEnvelopeKinds.SseSend:
                ReadPacket(envelope.Packet.Span, out var eventName, out var data);
                _server.PublishUtf8(targets, eventName, data, except);
                break;
            case ClusterEnvelopeKinds.SseClose:
                _server.CloseClients(targets);
                break;
        }
    }

    /// <summary>Reads <c>{"event":"e","data":...}</c>: a string <c>data</c> is its text, any other value its JSON text.</summary>
    private static void ReadPacket(ReadOnlySpan<byte> packet, out string? eventName, out byte[] data)
    {
        eventName = null;
        data = [];
        if (packet.IsEmpty)
        {
            return;
        }

        var reader = new Utf8JsonReader(packet, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("An SSE packet is a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("event"u8))
            {
                reader.Read();
                eventName = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    data = System.Text.Encoding.UTF8.GetBytes(reader.GetString()!);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = packet[start..(int)reader.BytesConsumed].ToArray();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}

internal static partial class SseBusLog
{
    [LoggerMessage(50, LogLevel.Warning, "SSE: dropped a bad envelope from bus channel '{Channel}': {Reason}", EventName = "BadEnvelope")]
    public static partial void BadEnvelope(ILogger logger, string channel, string reason);
}
