using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Internal;

/// <summary>One handler registered on a channel or pattern; disposing it unsubscribes exactly this registration.</summary>
/// <remarks>
/// Deliveries to one subscription never overlap and keep the order of <see cref="Deliver"/> calls: while a
/// handler's task is still running, the next message is chained behind it instead of starting concurrently
/// (a pipelining publisher that does not await each publication still sees its order kept).
/// <para>Public as a building block for <see cref="IMessageBus"/> implementations (Herald.Redis, a third-party bus), so
/// that every bus delivers with the same ordering and pattern semantics; applications do not need it.</para>
/// </remarks>
/// <param name="owner">The bus, called back once when the subscription is disposed.</param>
/// <param name="name">The channel or pattern.</param>
/// <param name="isPattern">Whether <paramref name="name"/> is a pattern.</param>
/// <param name="handler">The handler.</param>
public sealed class Subscription(ISubscriptionOwner owner, string name, bool isPattern, BusMessageHandler handler) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task? _tail;
    private bool _running;
    private int _runningThread;
    private TaskCompletionSource? _runningDone;
    private int _disposed;

    /// <summary>The channel or pattern.</summary>
    public string Name { get; } = name;

    /// <summary>Whether <see cref="Name"/> is a pattern.</summary>
    public bool IsPattern { get; } = isPattern;

    /// <summary>The handler.</summary>
    public BusMessageHandler Handler { get; } = handler;

    /// <summary>True once disposed: a delivery skips it.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Runs the handler now when nothing is pending, else after what is; completes when this message was handled.</summary>
    /// <remarks>
    /// The handler runs outside <see cref="_gate"/>: a handler that publishes (a node answering another) must never
    /// wait for another subscription's gate while holding its own, or two threads doing so in opposite directions
    /// deadlock. While a handler runs synchronously (<see cref="_running"/>), deliveries from other threads are chained behind <see cref="_runningDone"/>, created only then; a re-entrant delivery
    /// (the handler publishing to its own channel on the same thread) runs at once, nested, as a recursive lock did,
    /// so a handler that awaits such a publication does not wait for itself.
    /// </remarks>
    /// <param name="message">The message.</param>
    /// <param name="logger">Where a failing handler is logged.</param>
    /// <returns>Completes when this message was handled.</returns>
    public ValueTask Deliver(BusMessage message, ILogger logger)
    {
        // Only this thread writes its own id there, so the check needs no lock; the nested run takes none either.
        if (Volatile.Read(ref _running) && Volatile.Read(ref _runningThread) == Environment.CurrentManagedThreadId)
        {
            return RunNested(message, logger);
        }

        lock (_gate)
        {
            var previous = _tail;
            if (previous is { IsCompleted: true })
            {
                previous = _tail = null;
            }

            if (previous is null && _running)
            {
                previous = (_runningDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            if (previous is not null)
            {
                var chained = RunAfterAsync(previous, message, logger);
                _tail = chained;
                return new ValueTask(chained);
            }

            _running = true;
            _runningThread = Environment.CurrentManagedThreadId;
        }

        ValueTask pending;
        try
        {
            pending = Handler(message);
        }
        catch (Exception e)
        {
            MessagingLog.HandlerFailed(logger, message.Channel, e);
            pending = ValueTask.CompletedTask;
        }

        var observed = pending.IsCompletedSuccessfully ? null : ObserveAsync(pending, message.Channel, logger);
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            _running = false;
            waiting = _runningDone;
            _runningDone = null;
            if (waiting is null && observed is not null)
            {
                _tail = observed; // nobody chained meanwhile: the next delivery waits for this one
            }
        }

        if (waiting is not null)
        {
            // Deliveries chained behind this run start once it is really done (its asynchronous part included).
            if (observed is null)
            {
                waiting.TrySetResult();
            }
            else
            {
                _ = observed.ContinueWith(static (_, s) => ((TaskCompletionSource)s!).TrySetResult(), waiting, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return observed is null ? ValueTask.CompletedTask : new ValueTask(observed);
    }

    private ValueTask RunNested(BusMessage message, ILogger logger)
    {
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

        return pending.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(ObserveAsync(pending, message.Channel, logger));
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

    /// <summary>Unsubscribes exactly this registration (once), through its owner.</summary>
    /// <returns>Completes when the owner removed it.</returns>
    public ValueTask DisposeAsync()
        => Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.RemoveAsync(this) : ValueTask.CompletedTask;
}

/// <summary>What a <see cref="Subscription"/> calls back to remove itself: the bus that created it.</summary>
public interface ISubscriptionOwner
{
    /// <summary>Removes <paramref name="subscription"/> (and unsubscribes upstream when it was the last of its name).</summary>
    /// <param name="subscription">The disposed subscription.</param>
    /// <returns>Completes when removed.</returns>
    ValueTask RemoveAsync(Subscription subscription);
}
