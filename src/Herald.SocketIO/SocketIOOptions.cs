using System.Text.Json;
using Herald.EngineIO;

namespace Herald.SocketIO;

/// <summary>Settings of a <see cref="SocketIOServer"/>.</summary>
public sealed class SocketIOOptions
{
    /// <summary>How long a new Engine.IO connection may stay without joining a namespace before it is closed (45 s like socket.io).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// Serve the browser client (socket.io-client 4.8.4's <c>socket.io.min.js</c>, <c>socket.io.js</c> and their source
    /// maps) under the endpoint's path, as Node's <c>serveClient</c> (true, as on Node): <c>/socket.io/socket.io.min.js</c>,
    /// with <c>ETag</c> (the client version), <c>Cache-Control: public, max-age=0</c>, 304 on a matching
    /// <c>If-None-Match</c> and brotli or gzip when the browser accepts it.
    /// </summary>
    public bool ServeClient { get; set; } = true;

    /// <summary>
    /// The packet format of this endpoint (socket.io's <c>parser</c> option), the same for every client of it:
    /// <see cref="SocketIOParser.Default"/> (socket.io-parser, JSON text plus binary attachments) or
    /// <see cref="SocketIOParser.MessagePack"/> (clients built with <c>parser: require("socket.io-msgpack-parser")</c>).
    /// To serve both kinds of clients, map two endpoints (two servers on two paths).
    /// </summary>
    public SocketIOParser Parser { get; set; } = SocketIOParser.Default;

    /// <summary>Remove a dynamic child namespace (and its adapter) when its last socket leaves.</summary>
    public bool CleanupEmptyChildNamespaces { get; set; }

    /// <summary>The most binary attachments one packet may announce (10 like the reference parser); more closes the connection.</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>
    /// The most rooms one socket may be in through <see cref="Socket.Join(string)"/> (1,000; its own id room does not
    /// count). Joining past it throws <see cref="RoomLimitExceededException"/>: rooms are usually joined on a client's
    /// request, and without a bound a client could grow the room index without end. Server-side bulk joins
    /// (<c>SocketsJoin</c>) are the application's own decision and are not limited.
    /// </summary>
    public int MaxRoomsPerSocket { get; set; } = 1000;

    /// <summary>
    /// The most namespaces one Engine.IO connection may hold at once, joined or being joined (100). A CONNECT past it is
    /// answered with a CONNECT_ERROR <c>"Too many namespaces"</c> (the client's <c>connect_error</c>) and the
    /// connection stays up; leaving a namespace frees a place. Dynamic namespaces make the set of names unbounded,
    /// so without it one connection could hold a socket (and its adapter entries) in any number of them.
    /// </summary>
    public int MaxNamespacesPerConnection { get; set; } = 100;

    /// <summary>
    /// A token bucket on the CONNECT packets of one Engine.IO connection (default 10 per second, burst 100; null turns
    /// it off). Each CONNECT takes a token, whatever its outcome (accepted, refused by a middleware, unknown
    /// namespace, re-sent for a namespace already joined). Without a token the CONNECT gets a CONNECT_ERROR
    /// <c>"Too many namespace connects"</c> (the client's <c>connect_error</c>) and no middleware, handler or dynamic
    /// namespace runs; the <see cref="EngineIORateLimit.Burst"/>-th such refusal in a row closes the connection instead.
    /// It bounds what one connection can make the server do (run middlewares, create dynamic children); the number of
    /// connections is bounded by <see cref="EngineIOOptions.HandshakeRateLimitPerIp"/> and the connection limits.
    /// </summary>
    public EngineIORateLimit? ConnectRateLimit { get; set; } = new() { PermitsPerSecond = 10, Burst = 100 };

    /// <summary>
    /// JSON settings for event arguments; Herald adds the binary placeholder converters and relaxed escaping.
    /// Null: web defaults (camelCase).
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>The clock for connect and ack timeouts (tests inject a manual one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The Engine.IO settings of the endpoint (ping interval and timeout, transports, CORS, limits); its path defaults to <c>/socket.io/</c>.</summary>
    public EngineIOOptions Engine { get; set; } = new() { Path = "/socket.io/" };

    /// <summary>Creates the adapter of each namespace; null: <see cref="InMemoryAdapter"/>.</summary>
    public Func<Namespace, IAdapter>? AdapterFactory { get; set; }

    /// <summary>Connection-state recovery settings; null (the default) turns recovery off.</summary>
    public ConnectionStateRecoveryOptions? ConnectionStateRecovery { get; set; }

    /// <summary>
    /// A token bucket on the Error-level logs of handler failures (an event, ack, any-listener or error handler that
    /// threw) of one Engine.IO connection (default 1 per second, burst 10; null turns it off). A client can make a
    /// handler throw on every event it sends; without a bound that is an error with a stack trace per packet, which
    /// floods the logs and hides everything else. Past the bucket the failures are counted, and the next one logged
    /// says how many were left out.
    /// </summary>
    public EngineIORateLimit? HandlerErrorLogRateLimit { get; set; } = new() { PermitsPerSecond = 1, Burst = 10 };

    /// <summary>
    /// What is wrong with these options (the Engine.IO ones included, as <c>Engine:...</c>), one entry per problem, each
    /// starting with the option's path as configuration names it; empty when they are valid.
    /// </summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> GetErrors()
    {
        var errors = new List<string>();
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(ConnectTimeout)}: {ConnectTimeout} must be positive.");
        }

        if (MaxAttachments < 0)
        {
            errors.Add($"{nameof(MaxAttachments)}: {MaxAttachments} must not be negative.");
        }

        if (MaxRoomsPerSocket <= 0)
        {
            errors.Add($"{nameof(MaxRoomsPerSocket)}: {MaxRoomsPerSocket} must be positive.");
        }

        if (MaxNamespacesPerConnection <= 0)
        {
            errors.Add($"{nameof(MaxNamespacesPerConnection)}: {MaxNamespacesPerConnection} must be positive.");
        }

        if (ConnectRateLimit is { PermitsPerSecond: <= 0 or double.NaN } or { Burst: <= 0 })
        {
            errors.Add($"{nameof(ConnectRateLimit)}: PermitsPerSecond and Burst must be positive.");
        }

        if (HandlerErrorLogRateLimit is { PermitsPerSecond: <= 0 or double.NaN } or { Burst: <= 0 })
        {
            errors.Add($"{nameof(HandlerErrorLogRateLimit)}: PermitsPerSecond and Burst must be positive.");
        }

        if (ConnectionStateRecovery is { } recovery && (recovery.MaxDisconnectionDuration <= TimeSpan.Zero || recovery.MaxPackets <= 0 || recovery.MaxSessions <= 0))
        {
            errors.Add($"{nameof(ConnectionStateRecovery)}: MaxDisconnectionDuration, MaxPackets and MaxSessions must be positive.");
        }

        if (Engine is null)
        {
            errors.Add($"{nameof(Engine)}: is required.");
        }
        else
        {
            foreach (var e in Engine.GetErrors())
            {
                errors.Add($"{nameof(Engine)}:{e}");
            }
        }

        return errors;
    }
}

/// <summary>The Socket.IO packet format of an endpoint (<see cref="SocketIOOptions.Parser"/>).</summary>
public enum SocketIOParser
{
    /// <summary>socket.io-parser: a text packet (JSON) plus one binary message per attachment.</summary>
    Default,

    /// <summary>
    /// socket.io-msgpack-parser (npm 3.x): each packet is one binary message, a MessagePack map
    /// <c>{type, data, nsp, id}</c> with binary inline.
    /// </summary>
    MessagePack,
}
