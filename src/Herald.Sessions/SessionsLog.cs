using Microsoft.Extensions.Logging;

namespace Herald.Sessions;

internal static partial class SessionsLog
{
    [LoggerMessage(1, LogLevel.Warning, "Sessions: dropped a bad session change from the bus: {Reason}", EventName = "BadChange")]
    public static partial void BadChange(ILogger logger, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Sessions: could not apply a change of session {SessionId} to local clients", EventName = "ApplyFailed")]
    public static partial void ApplyFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Sessions: could not load session {SessionId} for a connecting client", EventName = "AttachFailed")]
    public static partial void AttachFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(4, LogLevel.Debug, "Sessions: socket {SocketId} joined session {SessionId} ({Rooms} rooms)", EventName = "SocketAttached")]
    public static partial void SocketAttached(ILogger logger, string socketId, string sessionId, int rooms);

    [LoggerMessage(5, LogLevel.Debug, "Sessions: refused message subscription {Source}/{MessageType} of session {SessionId}", EventName = "SubscriptionRefused")]
    public static partial void SubscriptionRefused(ILogger logger, string source, string messageType, string sessionId);

    [LoggerMessage(6, LogLevel.Debug, "Sessions: ignored the session cookie of a connection from origin '{Origin}' (not this server's origin nor an allowed one)", EventName = "CrossOriginCookieIgnored")]
    public static partial void CrossOriginCookieIgnored(ILogger logger, string origin);
}
