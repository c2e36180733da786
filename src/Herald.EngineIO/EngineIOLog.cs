using Microsoft.Extensions.Logging;

namespace Herald.EngineIO;

internal static partial class EngineIOLog
{
    [LoggerMessage(1, LogLevel.Debug, "Engine.IO session {SessionId} opened over {Transport}.")]
    public static partial void SessionOpened(ILogger logger, string sessionId, string transport);

    [LoggerMessage(2, LogLevel.Debug, "Engine.IO session {SessionId} closed: {Reason}.")]
    public static partial void SessionClosed(ILogger logger, string sessionId, string reason, Exception? exception);

    [LoggerMessage(3, LogLevel.Debug, "Engine.IO request rejected with code {Code}: {Message}.")]
    public static partial void RequestRejected(ILogger logger, int code, string message);

    [LoggerMessage(4, LogLevel.Debug, "Engine.IO session {SessionId} upgraded to WebSocket.")]
    public static partial void Upgraded(ILogger logger, string sessionId);

    [LoggerMessage(5, LogLevel.Debug, "Engine.IO session {SessionId}: upgrade failed.")]
    public static partial void UpgradeFailed(ILogger logger, string sessionId, Exception? exception);

    [LoggerMessage(6, LogLevel.Debug, "Engine.IO session {SessionId}: upgrade timed out.")]
    public static partial void UpgradeTimedOut(ILogger logger, string sessionId);

    [LoggerMessage(7, LogLevel.Debug, "Engine.IO session {SessionId}: overlapping polling GET requests, closing.")]
    public static partial void PollOverlap(ILogger logger, string sessionId);

    [LoggerMessage(8, LogLevel.Debug, "Engine.IO session {SessionId}: payload of {Length} bytes exceeds maxPayload.")]
    public static partial void PayloadTooLarge(ILogger logger, string sessionId, long length);

    [LoggerMessage(9, LogLevel.Error, "Engine.IO session {SessionId}: the connection handler or listener threw.")]
    public static partial void ListenerFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Engine.IO session {SessionId} is too slow and was disconnected: {QueuedMessages} messages / {QueuedBytes} bytes waiting (limits {MaxMessages} / {MaxBytes}).", EventName = "SlowClient")]
    public static partial void SlowClient(ILogger logger, string sessionId, int queuedMessages, long queuedBytes, int maxMessages, long maxBytes);

    [LoggerMessage(11, LogLevel.Debug, "Engine.IO handshake from {Address} refused: {Limit} reached.", EventName = "HandshakeRefused")]
    public static partial void HandshakeRefused(ILogger logger, System.Net.IPAddress? address, string limit);
}
