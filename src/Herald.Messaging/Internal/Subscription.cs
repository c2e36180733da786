namespace Herald.Messaging.Internal;

/// <summary>One handler registered on a channel or pattern; disposing it unsubscribes exactly this registration.</summary>
internal sealed class Subscription(ISubscriptionOwner owner, string name, bool isPattern, BusMessageHandler handler) : IAsyncDisposable
{
    private int _disposed;

    public string Name { get; } = name;

    public bool IsPattern { get; } = isPattern;

    public BusMessageHandler Handler { get; } = handler;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public ValueTask DisposeAsync()
        => Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.RemoveAsync(this) : ValueTask.CompletedTask;
}

/// <summary>What a <see cref="Subscription"/> calls back to remove itself.</summary>
internal interface ISubscriptionOwner
{
    ValueTask RemoveAsync(Subscription subscription);
}
