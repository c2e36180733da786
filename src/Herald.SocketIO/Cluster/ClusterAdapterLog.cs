using Microsoft.Extensions.Logging;

namespace Herald.SocketIO.Cluster;

internal static partial class ClusterAdapterLog
{
    [LoggerMessage(100, LogLevel.Warning, "Cluster adapter of {Namespace}: dropped a bad envelope from bus channel '{Channel}': {Reason}", EventName = "BadEnvelope")]
    public static partial void BadEnvelope(ILogger logger, string @namespace, string channel, string reason);

    [LoggerMessage(101, LogLevel.Warning, "Cluster adapter of {Namespace}: publishing a '{Kind}' envelope failed; other nodes miss it.", EventName = "PublishFailed")]
    public static partial void PublishFailed(ILogger logger, string @namespace, string kind, Exception exception);

    [LoggerMessage(108, LogLevel.Warning, "Cluster adapter of {Namespace}: publishing a '{Kind}' envelope failed, other nodes miss it: {Reason}", EventName = "PublishUnavailable")]
    public static partial void PublishUnavailable(ILogger logger, string @namespace, string kind, string reason);

    [LoggerMessage(102, LogLevel.Debug, "Cluster adapter of {Namespace}: the bus is {State}, '{Kind}' stays on this node.", EventName = "PublishSkipped")]
    public static partial void PublishSkipped(ILogger logger, string @namespace, string state, string kind);

    [LoggerMessage(103, LogLevel.Information, "Cluster adapter of {Namespace}: node {Node} is up.", EventName = "NodeUp")]
    public static partial void NodeUp(ILogger logger, string @namespace, string node);

    [LoggerMessage(104, LogLevel.Information, "Cluster adapter of {Namespace}: node {Node} is gone ({Reason}).", EventName = "NodeDown")]
    public static partial void NodeDown(ILogger logger, string @namespace, string node, string reason);

    [LoggerMessage(105, LogLevel.Warning, "Cluster adapter of {Namespace}: handling a '{Kind}' envelope from {Source} failed.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string @namespace, string kind, string source, Exception exception);

    [LoggerMessage(106, LogLevel.Warning, "Cluster adapter of {Namespace}: the data of socket {SocketId} is not JSON-serialisable; fetchSockets sends {{}}.", EventName = "DataNotSerializable")]
    public static partial void DataNotSerializable(ILogger logger, string @namespace, string socketId, Exception exception);

    [LoggerMessage(107, LogLevel.Error, "Cluster adapter of {Namespace}: subscribing to the bus failed.", EventName = "SubscribeFailed")]
    public static partial void SubscribeFailed(ILogger logger, string @namespace, Exception exception);
}
