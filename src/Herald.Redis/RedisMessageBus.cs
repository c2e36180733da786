using System.Buffers;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.Internal;
using Herald.Redis.Internal;
using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Redis;

/// <summary>
/// An <see cref="IMessageBus"/> over Redis pub/sub: <see cref="PublishAsync"/> is one <c>PUBLISH</c> on the
/// multiplexed command connection; subscriptions are <c>SUBSCRIBE</c>/<c>PSUBSCRIBE</c> on a dedicated
/// subscriber connection, one per distinct channel or pattern however many local handlers share it, so a
/// publication crosses Redis once per process and is handed to all local handlers from the same bytes.
/// Both connections reconnect with backoff; subscriptions are restored before
/// <see cref="MessageBusState.Connected"/> is reported again. Handlers run one message at a time on the
/// subscriber's reader, in the order Redis delivers.
/// </summary>
public sealed partial class RedisMessageBus : IBufferingMessageBus, ISubscriptionOwner, IRedisMessageSink
{
    private const int StackallocChars = 256;

    private readonly SubscriptionRegistry _registry = new();
    private readonly Lock _subscribeLock = new();
    private readonly Lock _stateLock = new();
    private readonly RedisCommandConnection _commands;
    private readonly RedisSubscriberConnection _subscriber;
    private readonly string _prefix;
    private readonly byte[] _prefixBytes;
    private readonly ILogger _logger;
    private MessageBusState _state = MessageBusState.Connecting;
    private bool _wasConnected;

    /// <summary>Creates the bus and starts connecting in the background.</summary>
    public RedisMessageBus(HeraldNode node, IOptions<RedisMessageBusOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (GlobPattern.HasSpecialCharacters(o.ChannelPrefix))
        {
            throw new ArgumentException($"ChannelPrefix '{o.ChannelPrefix}' must not contain the pattern characters *?[]\\.", nameof(options));
        }

        NodeName = node.Name;
        _prefix = o.ChannelPrefix.Length == 0 ? string.Empty : o.ChannelPrefix + ":";
        _prefixBytes = Encoding.UTF8.GetBytes(_prefix);
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<RedisMessageBus>();
        var connectionLogger = loggerFactory.CreateLogger("Herald.Redis.RedisConnection");
        _outageOptions = o;
        _commands = new RedisCommandConnection(o.Connection, connectionLogger);
        _subscriber = new RedisSubscriberConnection(o.Connection, connectionLogger, this);
        _commands.StateChanged += OnConnectionStateChanged;
        _subscriber.StateChanged += OnConnectionStateChanged;
        RedisLog.BusStarted(_logger, NodeName, o.ChannelPrefix, o.Connection.ToString());
        _commands.Start();
        _subscriber.Start();
    }

    /// <inheritdoc />
    public string NodeName { get; }

    /// <inheritdoc />
    public MessageBusState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc />
    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    /// <inheritdoc />
    public async ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (TryQueue(channel, payload) is { } queued)
        {
            await queued.ConfigureAwait(false);
            return;
        }

        await PublishCoreAsync(channel, payload, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask PublishCoreAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var start = MessagingMetrics.StartPublish(payload.Length);
        try
        {
            await _commands.ExecuteAsync(["PUBLISH", RedisArgument.Prefixed(_prefixBytes, channel), payload], cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref Counters._published);
        }
        catch (RedisConnectionException)
        {
            Interlocked.Increment(ref Counters._failed);
            throw;
        }

        MessagingMetrics.EndPublish(start);
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(channel, isPattern: false, handler, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(pattern, isPattern: true, handler, cancellationToken);

    private async ValueTask<IAsyncDisposable> SubscribeCoreAsync(string name, bool isPattern, BusMessageHandler handler, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, name, isPattern, handler);

        // The registry change and the queued command happen under one lock so that concurrent
        // subscribe/unsubscribe of one name reach Redis in the order the registry saw them.
        lock (_subscribeLock)
        {
            if (_registry.Add(subscription))
            {
                _subscriber.Subscribe(_prefix + name, isPattern);
            }
        }

        try
        {
            await _subscriber.WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return subscription;
    }

    ValueTask ISubscriptionOwner.RemoveAsync(Subscription subscription)
    {
        lock (_subscribeLock)
        {
            if (_registry.Remove(subscription))
            {
                _subscriber.Unsubscribe(_prefix + subscription.Name, subscription.IsPattern);
            }
        }

        return ValueTask.CompletedTask;
    }

    (string[] Channels, string[] Patterns) IRedisMessageSink.GetSubscriptions()
    {
        var (channels, patterns) = _registry.Names();
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = _prefix + channels[i];
        }

        for (var i = 0; i < patterns.Length; i++)
        {
            patterns[i] = _prefix + patterns[i];
        }

        return (channels, patterns);
    }

    ValueTask IRedisMessageSink.OnMessageAsync(ReadOnlySequence<byte> channel, ReadOnlySequence<byte> pattern, bool isPattern, ReadOnlySequence<byte> payload)
    {
        Subscription[] subscriptions;
        string channelName;
        string? patternName = null;
        char[]? rented = null;
        try
        {
            var name = Decode(isPattern ? pattern : channel, stackalloc char[StackallocChars], ref rented);
            if (!name.StartsWith(_prefix, StringComparison.Ordinal))
            {
                return ValueTask.CompletedTask;
            }

            name = name[_prefix.Length..];
            if (isPattern)
            {
                if (!_registry.TryGetPattern(name, out var entry))
                {
                    return ValueTask.CompletedTask; // unsubscribed meanwhile
                }

                subscriptions = entry.Subscriptions;
                patternName = entry.Name;
                var full = Encoding.UTF8.GetString(channel);
                channelName = full.StartsWith(_prefix, StringComparison.Ordinal) ? full[_prefix.Length..] : full;
            }
            else
            {
                if (!_registry.TryGetChannel(name, out var entry))
                {
                    return ValueTask.CompletedTask;
                }

                subscriptions = entry.Subscriptions;
                channelName = entry.Name;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        if (payload.IsSingleSegment)
        {
            // Zero copy: the handlers read the pipe's memory, which stays valid until they complete.
            return MessageDispatcher.DispatchAsync(subscriptions, new BusMessage(channelName, patternName, payload.First), _logger);
        }

        return DispatchCopyAsync(subscriptions, channelName, patternName, payload);
    }

    private async ValueTask DispatchCopyAsync(Subscription[] subscriptions, string channel, string? pattern, ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(buffer);
            await MessageDispatcher.DispatchAsync(subscriptions, new BusMessage(channel, pattern, buffer.AsMemory(0, length)), _logger).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReadOnlySpan<char> Decode(ReadOnlySequence<byte> bytes, Span<char> scratch, ref char[]? rented)
    {
        if (bytes.Length > scratch.Length)
        {
            rented = ArrayPool<char>.Shared.Rent((int)bytes.Length);
            scratch = rented;
        }

        var count = Encoding.UTF8.GetChars(bytes, scratch);
        return scratch[..count];
    }

    private void OnConnectionStateChanged(RedisConnectionState _, Exception? error)
    {
        MessageBusState previous, current;
        lock (_stateLock)
        {
            previous = _state;
            var commands = _commands.State;
            var subscriber = _subscriber.State;
            if (previous == MessageBusState.Disposed)
            {
                return;
            }

            if (commands == RedisConnectionState.Connected && subscriber == RedisConnectionState.Connected)
            {
                current = MessageBusState.Connected;
                _wasConnected = true;
            }
            else
            {
                current = _wasConnected ? MessageBusState.Disconnected : MessageBusState.Connecting;
            }

            if (current == previous)
            {
                return;
            }

            _state = current;
        }

        RedisLog.BusStateChanged(_logger, previous, current);
        OnOutageStateChanged(current);
        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, current, error));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        MessageBusState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == MessageBusState.Disposed)
            {
                return;
            }

            _state = MessageBusState.Disposed;
        }

        lock (_bufferLock)
        {
            FailWaitersLocked("the bus was disposed");
        }

        await _subscriber.DisposeAsync().ConfigureAwait(false);
        await _commands.DisposeAsync().ConfigureAwait(false);
        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, MessageBusState.Disposed, null));
    }
}
