using Microsoft.Extensions.Logging;

namespace Herald.Redis;

/// <summary>The log messages of Herald.Redis (event ids 2000-2099).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(2000, LogLevel.Debug, "Redis: connecting to {Endpoints}.")]
    public static partial void Connecting(ILogger logger, string endpoints);

    [LoggerMessage(2001, LogLevel.Information, "Redis {Role} connection: connected to {Endpoint}.")]
    public static partial void Connected(ILogger logger, string role, string endpoint);

    [LoggerMessage(2002, LogLevel.Warning, "Redis {Role} connection to {Endpoint} failed or was lost ({FailureType}); StackExchange.Redis keeps reconnecting.")]
    public static partial void ConnectionFailed(ILogger logger, string role, string endpoint, string failureType, Exception? exception);

    [LoggerMessage(2003, LogLevel.Information, "Redis subscriber: {Channels} channel and {Patterns} pattern subscriptions are in place again.")]
    public static partial void Resubscribed(ILogger logger, int channels, int patterns);

    [LoggerMessage(2004, LogLevel.Warning, "Redis subscriber: subscribing to '{Channel}' failed; retrying once the bus is connected.")]
    public static partial void SubscribeFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(2005, LogLevel.Debug, "Redis message bus for node '{NodeName}' uses channel prefix '{Prefix}' on {Endpoint}.")]
    public static partial void BusStarted(ILogger logger, string nodeName, string prefix, string endpoint);

    [LoggerMessage(2006, LogLevel.Information, "Redis message bus state: {Previous} -> {Current}.")]
    public static partial void BusStateChanged(ILogger logger, Herald.Messaging.MessageBusState previous, Herald.Messaging.MessageBusState current);

    [LoggerMessage(2007, LogLevel.Warning, "Redis is unreachable: publications are buffered (up to {Capacity}) until the bus reconnects.")]
    public static partial void OutageBuffering(ILogger logger, int capacity);

    [LoggerMessage(2008, LogLevel.Warning, "Redis outage buffer full: publication to '{Channel}' dropped ({Dropped} dropped so far).")]
    public static partial void OutageDropped(ILogger logger, string channel, long dropped);

    [LoggerMessage(2009, LogLevel.Information, "Redis is back: {Count} buffered publication(s) sent.")]
    public static partial void OutageReplayed(ILogger logger, int count);

    [LoggerMessage(2011, LogLevel.Warning, "Redis is back, but {Count} deliveries of the replayed publications were lost: fewer subscribers than before the outage (a node that had not resubscribed in time, or is gone). Counted in Undelivered.")]
    public static partial void OutageUndelivered(ILogger logger, long count);

    [LoggerMessage(2012, LogLevel.Warning, "Redis at {Endpoints} is unreachable ({Seconds} s so far; last error: {Error}); StackExchange.Redis keeps reconnecting; until then publications are {Publications}.")]
    public static partial void Unreachable(ILogger logger, string endpoints, int seconds, string publications, string error);

    [LoggerMessage(2010, LogLevel.Information, "Redis message bus: {Mode} pub/sub ({Reason}).")]
    public static partial void PubSubMode(ILogger logger, string mode, string reason);

    [LoggerMessage(2020, LogLevel.Debug, "Redis Streams message bus for node '{NodeName}' reads and writes {Streams} on {Endpoint}.")]
    public static partial void StreamsBusStarted(ILogger logger, string nodeName, string streams, string endpoint);

    [LoggerMessage(2021, LogLevel.Warning, "Redis stream {Stream}: {Missed} entries of publisher '{Origin}' were trimmed before this node read them ({Total} missed so far). Raise MaxLength to cover longer outages.")]
    public static partial void StreamsMissed(ILogger logger, string stream, string origin, long missed, long total);

    [LoggerMessage(2022, LogLevel.Warning, "Redis stream {Stream}: reading failed; reading on from {LastId} once the connection is back.")]
    public static partial void StreamsReadFailed(ILogger logger, string stream, string lastId, Exception exception);

    [LoggerMessage(2023, LogLevel.Warning, "Redis stream {Stream}: entries after {LastId} (up to {MaxDeleted}) were trimmed before this node read them; the stream now starts at {FirstId}.")]
    public static partial void StreamsTrimmed(ILogger logger, string stream, string lastId, string maxDeleted, string firstId);

    [LoggerMessage(2024, LogLevel.Information, "Redis stream {Stream}: node resumes reading from {LastId}, where it stopped.")]
    public static partial void StreamsResumed(ILogger logger, string stream, string lastId);

    [LoggerMessage(2025, LogLevel.Warning, "Redis Streams message bus disposed with {Count} publication(s) still buffered: dropped.")]
    public static partial void StreamsDisposedWithBuffer(ILogger logger, int count);

    [LoggerMessage(2026, LogLevel.Information, "Redis stream {Stream}: reading again from {LastId}.")]
    public static partial void StreamsReadingAgain(ILogger logger, string stream, string lastId);
}
