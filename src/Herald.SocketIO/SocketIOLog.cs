using Microsoft.Extensions.Logging;

namespace Herald.SocketIO;

internal static partial class SocketIOLog
{
    /// <summary>The log category of audit lines (authentication failures, refused connections, admin actions).</summary>
    public const string AuditCategory = "Herald.Audit";

    [LoggerMessage(20, LogLevel.Warning, "Socket.IO connection to {Namespace} refused by a middleware (remote {RemoteAddress}): {Message}", EventName = "AuditConnectRefused")]
    public static partial void AuditConnectRefused(ILogger logger, string @namespace, string remoteAddress, string message);

    /// <summary>The longest client-chosen string (event or namespace name) put in a log line.</summary>
    public const int MaxLoggedName = 64;

    /// <summary>
    /// A client-chosen name made safe for a log line: at most <see cref="MaxLoggedName"/> characters (then <c>…</c>),
    /// control characters (line breaks that would forge log lines) as <c>?</c>.
    /// </summary>
    public static string Printable(string name)
    {
        var clipped = name.Length <= MaxLoggedName ? name : name[..MaxLoggedName];
        var clean = true;
        foreach (var c in clipped)
        {
            if (char.IsControl(c))
            {
                clean = false;
                break;
            }
        }

        if (!clean)
        {
            clipped = string.Create(clipped.Length, clipped, static (span, source) =>
            {
                for (var i = 0; i < source.Length; i++)
                {
                    span[i] = char.IsControl(source[i]) ? '?' : source[i];
                }
            });
        }

        return clipped.Length == name.Length ? clipped : clipped + "…";
    }

    [LoggerMessage(1, LogLevel.Debug, "Closing connection {ConnectionId}: invalid Socket.IO packet ({Reason}).", EventName = "InvalidPacket")]
    public static partial void InvalidPacket(ILogger logger, string connectionId, string reason);

    [LoggerMessage(2, LogLevel.Error, "Handler of '{EventName}' failed on socket {SocketId} ({Suppressed} earlier failures on this connection not logged, SocketIOOptions.HandlerErrorLogRateLimit).", EventName = "HandlerError")]
    public static partial void HandlerError(ILogger logger, string eventName, string socketId, int suppressed, Exception exception);

    [LoggerMessage(3, LogLevel.Debug, "Ignoring an acknowledgement with unknown id {AckId} on socket {SocketId}.", EventName = "UnknownAck")]
    public static partial void UnknownAck(ILogger logger, long ackId, string socketId);

    [LoggerMessage(4, LogLevel.Debug, "Socket {SocketId} of {Namespace} disconnecting: {Reason}.", EventName = "SocketDisconnecting")]
    public static partial void SocketDisconnecting(ILogger logger, string socketId, string @namespace, string reason);

    [LoggerMessage(5, LogLevel.Error, "The adapter of {Namespace} failed.", EventName = "AdapterError")]
    public static partial void AdapterError(ILogger logger, string @namespace, Exception exception);

    [LoggerMessage(6, LogLevel.Debug, "Connection to {Namespace} refused by a middleware: {Message}.", EventName = "ConnectionRejected")]
    public static partial void ConnectionRejected(ILogger logger, string @namespace, string message);

    [LoggerMessage(7, LogLevel.Debug, "Closing connection {ConnectionId}: no namespace joined within the connect timeout.", EventName = "ConnectTimeout")]
    public static partial void ConnectTimeout(ILogger logger, string connectionId);

    [LoggerMessage(8, LogLevel.Debug, "Connection {ConnectionId} asked for the unknown namespace {Namespace}.", EventName = "InvalidNamespace")]
    public static partial void InvalidNamespace(ILogger logger, string connectionId, string @namespace);

    [LoggerMessage(9, LogLevel.Error, "A connection handler of {Namespace} failed for socket {SocketId}.", EventName = "ConnectionHandlerError")]
    public static partial void ConnectionHandlerError(ILogger logger, string @namespace, string socketId, Exception exception);

    [LoggerMessage(10, LogLevel.Debug, "Socket {SocketId} connected to {Namespace}.", EventName = "SocketConnected")]
    public static partial void SocketConnected(ILogger logger, string socketId, string @namespace);

    [LoggerMessage(11, LogLevel.Debug, "Socket {SocketId} recovered its session in {Namespace}; {Missed} missed packet(s) replayed.", EventName = "SocketRecovered")]
    public static partial void SocketRecovered(ILogger logger, string socketId, string @namespace, int missed);

    [LoggerMessage(12, LogLevel.Debug, "Connection {ConnectionId}: CONNECT to {Namespace} refused ({Limit}).", EventName = "ConnectRefused")]
    public static partial void ConnectRefused(ILogger logger, string connectionId, string @namespace, string limit);

    [LoggerMessage(13, LogLevel.Warning, "Closing connection {ConnectionId}: {Refused} CONNECT packets in a row over SocketIOOptions.ConnectRateLimit.", EventName = "ConnectFlood")]
    public static partial void ConnectFlood(ILogger logger, string connectionId, int refused);
}
