using Microsoft.Extensions.Logging;

namespace Herald.Messaging;

/// <summary>
/// A subscription of the <see cref="IMessageChannel"/>. It is created at once; <see cref="Ready"/>
/// completes when the bus confirmed it (for Redis, after the server's SUBSCRIBE reply). Dispose to stop.
/// </summary>
public sealed class MessageSubscription : IDisposable, IAsyncDisposable
{
    private readonly Task<IAsyncDisposable> _busSubscription;
    private readonly ILogger _logger;
    private int _disposed;

    internal MessageSubscription(string topic, Task<IAsyncDisposable> busSubscription, ILogger logger)
    {
        Topic = topic;
        _busSubscription = busSubscription;
        _logger = logger;
        Ready = busSubscription;
    }

    /// <summary>The topic or pattern subscribed to.</summary>
    public string Topic { get; }

    /// <summary>Completes once messages published from now on are received; faults when the subscription failed.</summary>
    public Task Ready { get; }

    /// <summary>Ends the subscription without waiting for the bus to confirm it.</summary>
    public void Dispose() => _ = ObserveAsync(DisposeAsync(), _logger, Topic);

    /// <summary>Ends the subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        IAsyncDisposable subscription;
        try
        {
            subscription = await _busSubscription.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return; // never subscribed, nothing to undo
        }

        await subscription.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task ObserveAsync(ValueTask pending, ILogger logger, string topic)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MessagingLog.UnsubscribeFailed(logger, topic, e);
        }
    }
}
