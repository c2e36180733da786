using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Internal;

/// <summary>One handler registered on a channel or pattern; disposing it unsubscribes exactly this registration.</summary>
/// <remarks>
/// Deliveries to one subscription never overlap and keep the order of <see cref="Deliver"/> calls: while a
/// handler's task is still running, the next message is chained behind it instead of starting concurrently
/// (a pipelining publisher that does not await each publication still sees its order kept).
/// </remarks>
internal sealed class Subscription(ISubscriptionOwner owner, string name, bool isPattern, BusMessageHandler handler) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task? _tail;
    private int _disposed;

    public string Name { get; } = name;

    public bool IsPattern { get; } = isPattern;

    public BusMessageHandler Handler { get; } = handler;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Runs the handler now when nothing is pending, else after what is; completes when this message was handled.</summary>
    public ValueTask Deliver(BusMessage message, ILogger logger)
    {
        Task? previous;
        lock (_gate)
        {
            previous = _tail;
            if (previous is { IsCompleted: true })
            {
                previous = _tail = null;
            }

            if (previous is not null)
            {
                var chained = RunAfterAsync(previous, message, logger);
                _tail = chained;
                return new ValueTask(chained);
            }

            ValueTask pending;
            try
            {
                pending = Handler(message);
            }
            catch (Exception e)
            {
                MessagingLog.HandlerFailed(logger, message.Channel, e);
                return ValueTask.CompletedTask;
            }

            if (pending.IsCompletedSuccessfully)
            {
                return ValueTask.CompletedTask;
            }

            var observed = ObserveAsync(pending, message.Channel, logger);
            _tail = observed;
            return new ValueTask(observed);
        }
    }

    private async Task RunAfterAsync(Task previous, BusMessage message, ILogger logger)
    {
        await previous.ConfigureAwait(false);
        if (IsDisposed)
        {
            return;
        }

        try
        {
            await Handler(message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MessagingLog.HandlerFailed(logger, message.Channel, e);
        }
    }

    private static async Task ObserveAsync(ValueTask pending, string channel, ILogger logger)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MessagingLog.HandlerFailed(logger, channel, e);
        }
    }

    public ValueTask DisposeAsync()
        => Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.RemoveAsync(this) : ValueTask.CompletedTask;
}

/// <summary>What a <see cref="Subscription"/> calls back to remove itself.</summary>
internal interface ISubscriptionOwner
{
    ValueTask RemoveAsync(Subscription subscription);
}
