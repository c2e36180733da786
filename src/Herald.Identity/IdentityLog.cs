using Microsoft.Extensions.Logging;

namespace Herald.Identity;

internal static partial class IdentityLog
{
    [LoggerMessage(1, LogLevel.Information, "Fetched {Count} signing keys from {Url}.", EventName = "JwksFetched")]
    public static partial void JwksFetched(ILogger logger, string url, int count);

    [LoggerMessage(2, LogLevel.Warning, "Could not fetch the signing keys from {Url}: {Reason}", EventName = "JwksFetchFailed")]
    public static partial void JwksFetchFailed(ILogger logger, string url, string reason);

    [LoggerMessage(3, LogLevel.Information, "Connection refused ({Transport}): {Code}.", EventName = "TokenRefused")]
    public static partial void TokenRefused(ILogger logger, string transport, string code);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} is user {UserId} with {Channels} channels.", EventName = "Identified")]
    public static partial void Identified(ILogger logger, string connectionId, string userId, int channels);

    [LoggerMessage(5, LogLevel.Information, "Connection {ConnectionId} did not refresh its token in time; disconnected.", EventName = "RefreshMissed")]
    public static partial void RefreshMissed(ILogger logger, string connectionId);

    [LoggerMessage(6, LogLevel.Warning, "The proxy call to {Url} failed: {Reason}; refused.", EventName = "ProxyFailed")]
    public static partial void ProxyFailed(ILogger logger, string url, string reason);

    [LoggerMessage(7, LogLevel.Warning, "Ignored a user command from the bus: {Reason}", EventName = "BadCommand")]
    public static partial void BadCommand(ILogger logger, string reason);
}
