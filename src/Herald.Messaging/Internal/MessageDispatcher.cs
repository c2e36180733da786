using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Internal;

/// <summary>
/// Hands one received message to every handler of a channel, completing synchronously when every handler
/// does. Each subscription keeps its own order (see <see cref="Subscription.Deliver"/>), so a slow handler
/// neither reorders nor delays the messages of the others. A handler that throws is logged and skipped.
/// </summary>
internal static class MessageDispatcher
{
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
