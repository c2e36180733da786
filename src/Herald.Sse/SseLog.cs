using Microsoft.Extensions.Logging;

namespace Herald.Sse;

internal static partial class SseLog
{
    [LoggerMessage(1, LogLevel.Debug, "SSE client {ClientId} connected (resumed: {Resumed}, replayed {Replayed} events).", EventName = "ClientConnected")]
    public static partial void ClientConnected(ILogger logger, string clientId, bool resumed, int replayed);

    [LoggerMessage(2, LogLevel.Debug, "SSE client {ClientId} disconnected: {Reason}.", EventName = "ClientDisconnected")]
    public static partial void ClientDisconnected(ILogger logger, string clientId, SseDisconnectReason reason);

    [LoggerMessage(3, LogLevel.Warning, "SSE client {ClientId} is too slow and was disconnected: {QueuedMessages} messages / {QueuedBytes} bytes queued (limits {MaxMessages} / {MaxBytes}).", EventName = "SlowClient")]
    public static partial void SlowClient(ILogger logger, string clientId, long queuedMessages, long queuedBytes, int maxMessages, long maxBytes);

    [LoggerMessage(4, LogLevel.Warning, "SSE connection refused: {MaxClients} clients are connected (MaxClients).", EventName = "MaxClientsReached")]
    public static partial void MaxClientsReached(ILogger logger, int maxClients);

    [LoggerMessage(5, LogLevel.Debug, "SSE connection refused by the authorization hook with status {StatusCode}.", EventName = "Unauthorized")]
    public static partial void Unauthorized(ILogger logger, int statusCode);

    [LoggerMessage(6, LogLevel.Debug, "SSE connection refused: topic '{Topic}' not authorized.", EventName = "TopicRefused")]
    public static partial void TopicRefused(ILogger logger, string topic);

    [LoggerMessage(7, LogLevel.Debug, "SSE client {ClientId} was closed by the server; its reconnect gets 204.", EventName = "ClosedClientReconnected")]
    public static partial void ClosedClientReconnected(ILogger logger, string clientId);

    [LoggerMessage(8, LogLevel.Debug, "SSE connection refused: origin '{Origin}' is not allowed.", EventName = "OriginRefused")]
    public static partial void OriginRefused(ILogger logger, string origin);

    [LoggerMessage(9, LogLevel.Debug, "SSE request rejected: {Reason}.", EventName = "BadRequest")]
    public static partial void BadRequest(ILogger logger, string reason);

    [LoggerMessage(10, LogLevel.Debug, "SSE client {ClientId} reconnected after its history was lost ({Reason}); told it missed events.", EventName = "MissedEvents")]
    public static partial void MissedEvents(ILogger logger, string clientId, string reason);

    [LoggerMessage(11, LogLevel.Error, "SSE client {ClientId}: the connection failed unexpectedly.", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, string clientId, Exception exception);

    [LoggerMessage(12, LogLevel.Error, "SSE: a {Handler} handler threw.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string handler, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "SSE client {ClientId}: the shared history store failed; the client is told it missed events.", EventName = "HistoryStoreFailed")]
    public static partial void HistoryStoreFailed(ILogger logger, string clientId, Exception exception);
}
