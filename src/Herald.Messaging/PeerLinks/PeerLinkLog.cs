using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.PeerLinks;

/// <summary>The log messages of peer links (event ids 1100-1199).</summary>
internal static partial class PeerLinkLog
{
    [LoggerMessage(1100, LogLevel.Information, "Peer link to '{Node}' ({Uri}) connected; {Count} subscriptions restored.")]
    public static partial void LinkConnected(ILogger logger, string node, Uri uri, int count);

    // Network failures are expected while a node restarts: the reason is logged without a stack trace.
    [LoggerMessage(1101, LogLevel.Warning, "Peer link to '{Node}' ({Uri}) lost ({Reason}); reconnecting in {Delay}.")]
    public static partial void LinkLost(ILogger logger, string node, Uri uri, string reason, TimeSpan delay);

    [LoggerMessage(1102, LogLevel.Warning, "Peer link to '{Node}' ({Uri}) could not connect ({Reason}); retrying in {Delay}.")]
    public static partial void LinkConnectFailed(ILogger logger, string node, Uri uri, string reason, TimeSpan delay);

    [LoggerMessage(1103, LogLevel.Error, "Peer link to '{Node}' ({Uri}) was refused: wrong or missing key (HTTP {Status}).")]
    public static partial void LinkUnauthorized(ILogger logger, string node, Uri uri, int status);

    [LoggerMessage(1104, LogLevel.Error, "Peer link to '{Node}' ({Uri}) reached a node that calls itself '{Actual}'.")]
    public static partial void LinkWrongNode(ILogger logger, string node, Uri uri, string actual);

    [LoggerMessage(1105, LogLevel.Warning, "Peer link to '{Node}': the send queue is full; a publication on '{Channel}' was not forwarded.")]
    public static partial void LinkQueueFull(ILogger logger, string node, string channel);

    [LoggerMessage(1106, LogLevel.Warning, "Peer link to '{Node}': the node refused a subscription: {Message}")]
    public static partial void LinkSubscriptionRefused(ILogger logger, string node, string? message);

    [LoggerMessage(1107, LogLevel.Warning, "Peer link to '{Node}': subscribing '{Name}' was not confirmed within {Timeout}.")]
    public static partial void LinkSubscribeTimeout(ILogger logger, string node, string name, TimeSpan timeout);

    [LoggerMessage(1108, LogLevel.Warning, "Peer link to '{Node}' sent a frame that is not valid; reconnecting.")]
    public static partial void LinkBadFrame(ILogger logger, string node);

    [LoggerMessage(1120, LogLevel.Information, "Node '{Remote}' linked to this node's channel.")]
    public static partial void SessionStarted(ILogger logger, string remote);

    [LoggerMessage(1121, LogLevel.Information, "Node '{Remote}' unlinked ({Status} {Description}).")]
    public static partial void SessionEnded(ILogger logger, string remote, WebSocketCloseStatus? status, string description);

    [LoggerMessage(1122, LogLevel.Warning, "Node '{Remote}' does not keep up: its send queue is full ({Count} frames or {Bytes} bytes); disconnecting it.")]
    public static partial void SessionOverflow(ILogger logger, string remote, int count, long bytes);

    [LoggerMessage(1123, LogLevel.Warning, "Node '{Remote}' published on '{Channel}' but the bus refused it.")]
    public static partial void SessionPublishFailed(ILogger logger, string remote, string channel, Exception exception);

    [LoggerMessage(1124, LogLevel.Warning, "Node '{Remote}' could not subscribe '{Name}'.")]
    public static partial void SessionSubscribeFailed(ILogger logger, string remote, string name, Exception exception);

    [LoggerMessage(1125, LogLevel.Warning, "Node '{Remote}' sent a frame that is not valid: {Reason}.")]
    public static partial void SessionBadFrame(ILogger logger, string remote, string reason);

    [LoggerMessage(1126, LogLevel.Debug, "Node '{Remote}' link failed.")]
    public static partial void SessionFailed(ILogger logger, string remote, Exception exception);

    [LoggerMessage(1140, LogLevel.Information, "Node '{Remote}' was refused the subscription to '{Name}' (AuthorizeSubscription).")]
    public static partial void SessionSubscriptionRefused(ILogger logger, string remote, string name);
}
