using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Internal;
using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Messaging;

/// <summary>
/// The default <see cref="IMessageChannel"/>: topics as JSON messages on an <see cref="IMessageBus"/>.
/// Topic <c>t</c> travels on bus channel <see cref="HeraldMessagingOptions.TopicChannelPrefix"/> + <c>t</c>;
/// the payload is the UTF-8 JSON of the message, nothing else.
/// </summary>
public sealed class MessageChannel : IMessageChannel
{
    private readonly IMessageBus _bus;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly string _prefix;
    private readonly int _maxMessageSize;
    private readonly ILogger _logger;

    /// <summary>Creates the channel over <paramref name="bus"/>.</summary>
    public MessageChannel(IMessageBus bus, IOptions<HeraldMessagingOptions> options, ILogger<MessageChannel>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (GlobPattern.HasSpecialCharacters(o.TopicChannelPrefix))
        {
            throw new ArgumentException($"TopicChannelPrefix '{o.TopicChannelPrefix}' must not contain the pattern characters *?[]\\.", nameof(options));
        }

        _bus = bus;
        _serializerOptions = o.SerializerOptions;
        _serializerOptions.MakeReadOnly(populateMissingResolver: true);
        _prefix = o.TopicChannelPrefix;
        _maxMessageSize = o.MaxMessageSize;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public string NodeName => _bus.NodeName;

    /// <summary>The bus under the channel (peer links reach it through <c>channel.ConnectAsync</c>).</summary>
    internal IMessageBus Bus => _bus;

    /// <inheritdoc />
    public async ValueTask PublishAsync<T>(string topic, T message, JsonTypeInfo<T>? typeInfo = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        typeInfo ??= GetTypeInfo<T>();
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, message, typeInfo);
        }

        if (buffer.WrittenCount > _maxMessageSize)
        {
            throw new MessageBusException($"The message on topic '{topic}' is {buffer.WrittenCount} bytes, over MaxMessageSize ({_maxMessageSize}).");
        }

        await _bus.PublishAsync(_prefix + topic, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public MessageSubscription Subscribe<T>(string topic, Func<T, Task> handler, JsonTypeInfo<T>? typeInfo = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCore(topic, isPattern: false, typeInfo, (_, m) => new ValueTask(handler(m)));
    }

    /// <inheritdoc />
    public MessageSubscription Subscribe<T>(string topic, Action<T> handler, JsonTypeInfo<T>? typeInfo = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCore<T>(topic, isPattern: false, typeInfo, (_, m) =>
        {
            handler(m);
            return ValueTask.CompletedTask;
        });
    }

    /// <inheritdoc />
    public MessageSubscription SubscribePattern<T>(string pattern, Func<string, T, Task> handler, JsonTypeInfo<T>? typeInfo = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCore(pattern, isPattern: true, typeInfo, (t, m) => new ValueTask(handler(t, m)));
    }

    /// <inheritdoc />
    public MessageSubscription SubscribePattern<T>(string pattern, Action<string, T> handler, JsonTypeInfo<T>? typeInfo = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCore<T>(pattern, isPattern: true, typeInfo, (t, m) =>
        {
            handler(t, m);
            return ValueTask.CompletedTask;
        });
    }

    private MessageSubscription SubscribeCore<T>(string topic, bool isPattern, JsonTypeInfo<T>? typeInfo, Func<string, T, ValueTask> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var info = typeInfo ?? GetTypeInfo<T>();
        var prefixLength = _prefix.Length;
        var logger = _logger;
        BusMessageHandler busHandler = message =>
        {
            var name = message.Channel.Length >= prefixLength ? message.Channel[prefixLength..] : message.Channel;
            T value;
            try
            {
                value = JsonSerializer.Deserialize(message.Payload.Span, info)!;
            }
            catch (JsonException e)
            {
                MessagingLog.DeserializeFailed(logger, name, typeof(T).Name, e);
                return ValueTask.CompletedTask;
            }

            return handler(name, value);
        };

        var channel = _prefix + topic;
        var pending = isPattern
            ? _bus.SubscribePatternAsync(channel, busHandler)
            : _bus.SubscribeAsync(channel, busHandler);
        return new MessageSubscription(topic, pending.AsTask(), _logger);
    }

    private JsonTypeInfo<T> GetTypeInfo<T>() => (JsonTypeInfo<T>)_serializerOptions.GetTypeInfo(typeof(T));
}
