using Microsoft.Extensions.Logging;

namespace Herald.Messaging;

/// <summary>The log messages of Herald.Messaging (event ids 1000-1099).</summary>
internal static partial class MessagingLog
{
    [LoggerMessage(1000, LogLevel.Error, "A message handler of channel '{Channel}' failed; other handlers still received the message.")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(1001, LogLevel.Warning, "A message on topic '{Topic}' could not be deserialized as {Type} and was dropped.")]
    public static partial void DeserializeFailed(ILogger logger, string topic, string type, Exception exception);

    [LoggerMessage(1002, LogLevel.Debug, "In-memory message bus started for node '{NodeName}'.")]
    public static partial void InMemoryBusStarted(ILogger logger, string nodeName);

    [LoggerMessage(1003, LogLevel.Warning, "Subscribing message channel topic '{Topic}' failed.")]
    public static partial void SubscribeFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(1004, LogLevel.Warning, "Unsubscribing message channel topic '{Topic}' failed.")]
    public static partial void UnsubscribeFailed(ILogger logger, string topic, Exception exception);
}
