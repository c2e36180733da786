using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Internal;

/// <summary>
/// Hands one received message to every handler of a channel, completing synchronously when every handler
/// does. Each subscription keeps its own order (see <see cref="Subscription.Deliver"/>), so a slow handler
/// neither reorders nor delays the messages of the others. A handler that throws is logged and skipped.
/// </summary>
/// <remarks>
/// <para>Public as a building block for <see cref="IMessageBus"/> implementations (Herald.Redis, a third-party bus), so
/// that every bus delivers with the same ordering and pattern semantics; applications do not need it.</para>
/// </remarks>
public static class MessageDispatcher
{
    /// <summary>Delivers <paramref name="message"/> to every live subscription of <paramref name="subscriptions"/>.</summary>
    /// <param name="subscriptions">The registrations of the channel or pattern (<see cref="SubscriptionRegistry.Entry.Subscriptions"/>).</param>
    /// <param name="message">The message.</param>
    /// <param name="logger">Where a failing handler is logged.</param>
    /// <returns>Completes when every handler did.</returns>
    public static ValueTask DispatchAsync(Subscription[] subscriptions, BusMessage message, ILogger logger)
    {
        MessagingMetrics.Received.Add(1);
        Task? single = null;
        List<Task>? several = null;
        for (var i = 0; i < subscriptions.Length; i++)
        {
            var subscription = subscriptions[i];
            if (subscription.IsDisposed)
            {
                continue;
            }

            var pending = subscription.Deliver(message, logger);
            if (pending.IsCompletedSuccessfully)
            {
                continue;
            }

            if (single is null)
            {
                single = pending.AsTask();
            }
            else
            {
                (several ??= [single]).Add(pending.AsTask());
            }
        }

        return several is not null ? new ValueTask(Task.WhenAll(several))
            : single is not null ? new ValueTask(single)
            : ValueTask.CompletedTask;
    }
}
