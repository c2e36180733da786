using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Internal;

/// <summary>
/// Hands one received message to a list of handlers, one after the other (so a publisher's order is kept),
/// completing synchronously when every handler does. A handler that throws is logged and skipped.
/// </summary>
internal static class MessageDispatcher
{
    public static ValueTask DispatchAsync(Subscription[] subscriptions, BusMessage message, ILogger logger)
    {
        for (var i = 0; i < subscriptions.Length; i++)
        {
            var subscription = subscriptions[i];
            if (subscription.IsDisposed)
            {
                continue;
            }

            ValueTask pending;
            try
            {
                pending = subscription.Handler(message);
            }
            catch (Exception e)
            {
                MessagingLog.HandlerFailed(logger, message.Channel, e);
                continue;
            }

            if (!pending.IsCompletedSuccessfully)
            {
                return AwaitRest(pending, subscriptions, i, message, logger);
            }
        }

        return ValueTask.CompletedTask;
    }

    private static async ValueTask AwaitRest(ValueTask pending, Subscription[] subscriptions, int index, BusMessage message, ILogger logger)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MessagingLog.HandlerFailed(logger, message.Channel, e);
        }

        for (var i = index + 1; i < subscriptions.Length; i++)
        {
            var subscription = subscriptions[i];
            if (subscription.IsDisposed)
            {
                continue;
            }

            try
            {
                await subscription.Handler(message).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                MessagingLog.HandlerFailed(logger, message.Channel, e);
            }
        }
    }
}
