using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Messaging;

/// <summary>
/// The default <see cref="IMessageBus"/>: delivers inside this process only. A publication runs the
/// matching handlers on the publisher's thread, one after the other, and completes when they have
/// (synchronously when they all do), so one publisher's messages arrive in order. Handlers run under no
/// lock and may be called concurrently by concurrent publishers.
/// </summary>
public sealed class InMemoryMessageBus : IMessageBus, ISubscriptionOwner
{
    private readonly SubscriptionRegistry _registry = new();
    private readonly ILogger _logger;
    private volatile bool _disposed;

    /// <summary>Creates the bus for the given node.</summary>
    public InMemoryMessageBus(HeraldNode node, ILogger<InMemoryMessageBus>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        NodeName = node.Name;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        MessagingLog.InMemoryBusStarted(_logger, NodeName);
    }

    /// <inheritdoc />
    public string NodeName { get; }

    /// <inheritdoc />
    public MessageBusState State => _disposed ? MessageBusState.Disposed : MessageBusState.Connected;

    /// <inheritdoc />
    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    /// <inheritdoc />
    public ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (_disposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(InMemoryMessageBus)));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var start = MessagingMetrics.StartPublish(payload.Length);
        var patterns = _registry.Patterns;
        if (patterns.Length == 0)
        {
            return MessagingMetrics.Track(
                _registry.TryGetChannel(channel, out var only)
                    ? MessageDispatcher.DispatchAsync(only.Subscriptions, new BusMessage(channel, null, payload), _logger)
                    : ValueTask.CompletedTask,
                start);
        }

        return MessagingMetrics.Track(PublishWithPatternsAsync(channel, payload, patterns), start);
    }

    private async ValueTask PublishWithPatternsAsync(string channel, ReadOnlyMemory<byte> payload, SubscriptionRegistry.Entry[] patterns)
    {
        if (_registry.TryGetChannel(channel, out var exact))
        {
            await MessageDispatcher.DispatchAsync(exact.Subscriptions, new BusMessage(channel, null, payload), _logger).ConfigureAwait(false);
        }

        foreach (var pattern in patterns)
        {
            if (GlobPattern.IsMatch(pattern.Name, channel))
            {
                await MessageDispatcher.DispatchAsync(pattern.Subscriptions, new BusMessage(channel, pattern.Name, payload), _logger).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => Subscribe(channel, isPattern: false, handler);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => Subscribe(pattern, isPattern: true, handler);

    private ValueTask<IAsyncDisposable> Subscribe(string name, bool isPattern, BusMessageHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var subscription = new Subscription(this, name, isPattern, handler);
        _registry.Add(subscription);
        return ValueTask.FromResult<IAsyncDisposable>(subscription);
    }

    ValueTask ISubscriptionOwner.RemoveAsync(Subscription subscription)
    {
        _registry.Remove(subscription);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(MessageBusState.Connected, MessageBusState.Disposed, null));
        }

        return ValueTask.CompletedTask;
    }
}
