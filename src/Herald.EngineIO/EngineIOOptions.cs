using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>Options of an <see cref="EngineIOServer"/>; the defaults are the reference server's.</summary>
public sealed class EngineIOOptions
{
    /// <summary>The request path (<c>/engine.io/</c>; Socket.IO uses <c>/socket.io/</c>).</summary>
    public string Path { get; set; } = "/engine.io/";

    /// <summary>
    /// The transports a client may use: <c>polling</c> and/or <c>websocket</c>; empty (the default) allows both. The
    /// default is an empty list, not the two names, so that a list bound from configuration
    /// (<c>Engine:Transports:0=websocket</c>) replaces it instead of being appended to it.
    /// </summary>
    public IList<string> Transports { get; set; } = [];

    /// <summary>The transports in force: <see cref="Transports"/>, or both when it is empty.</summary>
    public IReadOnlyList<string> EffectiveTransports => Transports.Count > 0 ? [.. Transports] : [EngineTransports.Polling, EngineTransports.WebSocket];

    /// <summary>Whether a polling session may upgrade to WebSocket (advertised in the handshake).</summary>
    public bool AllowUpgrades { get; set; } = true;

    /// <summary>How often the server sends a ping (25 s).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long the server waits for the pong after a ping before closing with <c>ping timeout</c> (20 s).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long an upgrade (from the WebSocket's opening to the client's <c>5</c>) may take (10 s).</summary>
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest message or polling request body accepted, in bytes (<c>maxPayload</c> in the handshake;
    /// 1 MB). A bigger POST gets HTTP 413; a bigger WebSocket message closes the session.
    /// </summary>
    public int MaxHttpBufferSize { get; set; } = 1_000_000;

    /// <summary>
    /// The most messages waiting to be written to one connection (4096), counting the batch being written.
    /// Together with <see cref="MaxOutboundBytes"/> this bounds what a client that stops reading can cost:
    /// when a message would go over either bound, queued volatile messages are dropped first; if that is not
    /// enough the session is closed as a slow client (reason <c>transport error</c>, logged at Warning and
    /// counted by the <c>herald.engineio.slow_client_disconnects</c> counter of the <c>Herald.EngineIO</c> meter).
    /// </summary>
    /// <remarks>
    /// A client that keeps up never holds more than one flush's worth, so the bound only matters for bursts:
    /// 4096 lets an application emit a few thousand packets in a loop (or a recovery replay them) to one
    /// connection without tripping it, while the queue entries themselves stay small (messages of a broadcast
    /// are shared between sessions; an entry is a reference).
    /// </remarks>
    public int MaxOutboundQueue { get; set; } = 4096;

    /// <summary>
    /// The most bytes waiting to be written to one connection (4 MiB), counting the batch being written. A message
    /// counts what holding it keeps alive, its payload and its cached transport encoding (about twice its size), even
    /// when a broadcast shares it with other sessions: once they have sent it, this queue alone holds it.
    /// One message bigger than this is still sent when nothing else is queued.
    /// </summary>
    /// <remarks>
    /// 4 MiB is two maximum-size messages (<see cref="MaxHttpBufferSize"/> defaults to 1 MB) and, at the ~100-byte
    /// packets of a chat or a feed, over ten thousand packets: seconds of backlog at any sane rate. A thousand
    /// clients stalled at once cost at most 4 GiB, beyond that the operator lowers it; a healthy client stays far
    /// below since its queue is drained by every flush.
    /// </remarks>
    public long MaxOutboundBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// The most sessions open at once (100,000). A handshake beyond it gets HTTP 503 with
    /// <c>{"code":3,"message":"Too many connections"}</c>; the official client then retries with its backoff.
    /// </summary>
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>
    /// The most sessions open at once from one remote address; null (the default) sets no such limit, because
    /// behind a reverse proxy every client has the proxy's address (set it when Kestrel faces the clients, or
    /// with the forwarded-headers middleware). Beyond it a handshake gets HTTP 503,
    /// <c>{"code":3,"message":"Too many connections from this address"}</c>.
    /// </summary>
    public int? MaxConnectionsPerIp { get; set; }

    /// <summary>
    /// A token bucket on handshakes per remote address; null (the default) sets none (same proxy caveat as
    /// <see cref="MaxConnectionsPerIp"/>). A handshake without a token gets HTTP 429,
    /// <c>{"code":3,"message":"Too many handshakes from this address"}</c>.
    /// </summary>
    public EngineIORateLimit? HandshakeRateLimitPerIp { get; set; }

    /// <summary>CORS for browsers on other origins; null (the default) adds no CORS headers.</summary>
    public EngineIOCorsOptions? Cors { get; set; }

    /// <summary>The session cookie set on the handshake; null (the default) sets no cookie.</summary>
    public EngineIOCookieOptions? Cookie { get; set; }

    /// <summary>
    /// Decides whether a handshake is accepted. Returning <c>Allowed = false</c> answers HTTP 403 with
    /// <c>{"code":4,"message":Message ?? "Forbidden"}</c>.
    /// </summary>
    public Func<HttpContext, ValueTask<(bool Allowed, string? Message)>>? AllowRequest { get; set; }

    /// <summary>
    /// Called on the handshake request (the one that opens a session, polling or WebSocket) before its answer is
    /// written: add response headers with <c>context.Response.Headers</c>, for example a cookie (engine.io's
    /// <c>initial_headers</c> event). Runs before <see cref="OnHeaders"/>. Not called for refused requests.
    /// </summary>
    public Action<HttpContext>? OnInitialHeaders { get; set; }

    /// <summary>
    /// Called on every request of a session before its answer is written (the handshake, each polling GET and POST,
    /// the WebSocket upgrade): add response headers with <c>context.Response.Headers</c> (engine.io's
    /// <c>headers</c> event). Not called for refused requests (unknown session, bad request).
    /// </summary>
    public Action<HttpContext>? OnHeaders { get; set; }

    /// <summary>The clock for heartbeats and timeouts (tests inject a manual one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a closing session waits for the client to collect what was queued (a polling session
    /// without a pending GET), and how long a WebSocket close handshake may take (5 s).
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What is wrong with these options, one entry per problem, each starting with the option's path as configuration
    /// names it (<c>Cors:Origins:0: ...</c>); empty when they are valid. The server refuses to start with any.
    /// </summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> GetErrors()
    {
        var errors = new List<string>();
        void Positive(string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name}: {value} must be positive.");
            }
        }

        void PositiveNumber(string name, long? value)
        {
            if (value is <= 0)
            {
                errors.Add($"{name}: {value} must be positive.");
            }
        }

        Positive(nameof(PingInterval), PingInterval);
        Positive(nameof(PingTimeout), PingTimeout);
        Positive(nameof(UpgradeTimeout), UpgradeTimeout);
        Positive(nameof(CloseTimeout), CloseTimeout);
        PositiveNumber(nameof(MaxHttpBufferSize), MaxHttpBufferSize);
        PositiveNumber(nameof(MaxOutboundQueue), MaxOutboundQueue);
        PositiveNumber(nameof(MaxOutboundBytes), MaxOutboundBytes);
        PositiveNumber(nameof(MaxConnections), MaxConnections);
        PositiveNumber(nameof(MaxConnectionsPerIp), MaxConnectionsPerIp);
        if (HandshakeRateLimitPerIp is { PermitsPerSecond: <= 0 } or { Burst: <= 0 })
        {
            errors.Add($"{nameof(HandshakeRateLimitPerIp)}: PermitsPerSecond and Burst must be positive.");
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)}: is required.");
        }

        if (Transports is null)
        {
            errors.Add($"{nameof(Transports)}: is required (empty allows both).");
        }
        else
        {
            for (var i = 0; i < Transports.Count; i++)
            {
                if (Transports[i] is not (EngineTransports.Polling or EngineTransports.WebSocket))
                {
                    errors.Add($"{nameof(Transports)}:{i}: '{Transports[i]}' is not a transport ('{EngineTransports.Polling}' or '{EngineTransports.WebSocket}').");
                }
            }
        }

        if (Cors is { } cors)
        {
            for (var i = 0; i < cors.Origins.Count; i++)
            {
                var origin = cors.Origins[i];
                if (origin == "*")
                {
                    if (cors.Credentials)
                    {
                        errors.Add("Cors: the origin '*' cannot go with Credentials (any site could act with the visitor's cookies); list the origins.");
                    }
                }
                else if (!EngineIOCorsOptions.IsOrigin(origin))
                {
                    errors.Add($"Cors:Origins:{i}: '{origin}' is not an origin (scheme://host[:port], no path) nor '*'.");
                }
            }
        }

        return errors;
    }

    internal void Validate()
    {
        var errors = GetErrors();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Engine.IO options: " + string.Join(" ", errors));
        }
    }
}

/// <summary>A token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="PermitsPerSecond"/>.</summary>
public sealed class EngineIORateLimit
{
    /// <summary>The sustained rate (5 per second).</summary>
    public double PermitsPerSecond { get; set; } = 5;

    /// <summary>How many may come at once after a quiet period (20): a page that opens a few tabs is not refused.</summary>
    public int Burst { get; set; } = 20;
}

/// <summary>The Engine.IO transport names.</summary>
public static class EngineTransports
{
    /// <summary>HTTP long-polling.</summary>
    public const string Polling = "polling";

    /// <summary>WebSocket.</summary>
    public const string WebSocket = "websocket";
}

/// <summary>CORS settings of an Engine.IO endpoint.</summary>
public sealed class EngineIOCorsOptions
{
    /// <summary>
    /// The allowed origins (<c>https://example.com</c>); <c>*</c> allows any origin (not with <see cref="Credentials"/>).
    /// Empty (the default) allows none: CORS stays closed until origins are listed, and a list bound from
    /// configuration is the whole list. The origin <c>null</c> (sandboxed frames, <c>file:</c> pages) is never echoed.
    /// </summary>
    public IList<string> Origins { get; set; } = [];

    /// <summary>Whether credentials (cookies) are allowed; the request's origin is then echoed instead of <c>*</c>.</summary>
    public bool Credentials { get; set; }

    /// <summary>Headers allowed in a preflight answer; empty echoes <c>Access-Control-Request-Headers</c>.</summary>
    public IList<string> AllowedHeaders { get; set; } = [];

    /// <summary>How long a browser may cache a preflight answer; null sends no <c>Access-Control-Max-Age</c>.</summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Whether <paramref name="value"/> is a serialized origin: <c>http(s)://host[:port]</c>, no path, no trailing slash.</summary>
    /// <param name="value">The value.</param>
    /// <returns>True for an origin.</returns>
    public static bool IsOrigin(string? value)
        => value is not null && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.AbsolutePath == "/" && !value.EndsWith('/') && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)
            && string.IsNullOrEmpty(uri.UserInfo);
}

/// <summary>The cookie holding the session id, set on the handshake response.</summary>
public sealed class EngineIOCookieOptions
{
    /// <summary>The cookie name (<c>io</c>).</summary>
    public string Name { get; set; } = "io";

    /// <summary>The cookie path (<c>/</c>).</summary>
    public string Path { get; set; } = "/";

    /// <summary>Whether the cookie is hidden from scripts (true).</summary>
    public bool HttpOnly { get; set; } = true;

    /// <summary>The SameSite mode (Lax).</summary>
    public SameSiteMode SameSite { get; set; } = SameSiteMode.Lax;

    /// <summary>Whether the cookie is only sent over HTTPS.</summary>
    public bool Secure { get; set; }
}
