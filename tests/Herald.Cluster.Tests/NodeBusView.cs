using Herald.Messaging;

namespace Herald.Cluster.Tests;

/// <summary>One process's view of a bus shared in memory: the same deliveries, its own node name.</summary>
public sealed class NodeBusView(IMessageBus inner, string nodeName) : IMessageBus
{
    public string NodeName => nodeName;

    public MessageBusState State => inner.State;

    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged
    {
        add => inner.StateChanged += value;
        remove => inner.StateChanged -= value;
    }

    public ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
        => inner.PublishAsync(channel, payload, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => inner.SubscribeAsync(channel, handler, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => inner.SubscribePatternAsync(pattern, handler, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
