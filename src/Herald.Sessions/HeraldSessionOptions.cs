using System.Security.Claims;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Microsoft.AspNetCore.Http;

namespace Herald.Sessions;

/// <summary>Settings of Herald sessions (<c>services.AddHeraldSessions(o =&gt; ...)</c>).</summary>
public sealed class HeraldSessionOptions
{
    /// <summary>The session cookie (default <c>herald.sid</c>): HttpOnly, SameSite=Lax, 128 random bits, base64url.</summary>
    public string CookieName { get; set; } = "herald.sid";

    /// <summary>The cookie's path (default <c>/</c>).</summary>
    public string CookiePath { get; set; } = "/";

    /// <summary>
    /// Whether the cookie is <c>Secure</c>: by default only when the request is HTTPS (<c>Request.IsHttps</c>; behind a
    /// TLS-terminating proxy that needs <c>UseForwardedHeaders</c> with the proxy as a known proxy, or set
    /// <see cref="CookieSecurePolicy.Always"/>).
    /// </summary>
    public CookieSecurePolicy CookieSecure { get; set; } = CookieSecurePolicy.SameAsRequest;

    /// <summary>The cookie's <c>SameSite</c> (default <see cref="SameSiteMode.Lax"/>; <see cref="SameSiteMode.None"/> needs <c>Secure</c> in browsers).</summary>
    public SameSiteMode CookieSameSite { get; set; } = SameSiteMode.Lax;

    /// <summary>Whether the cookie is <c>HttpOnly</c> (default <c>true</c>: page scripts never see the session).</summary>
    public bool CookieHttpOnly { get; set; } = true;

    /// <summary>
    /// The secret that signs <c>herald.sid</c> values (at least 32 characters). A cookie this server did not sign is
    /// ignored and replaced by a new session (no session fixation). <c>null</c> (default): a random key per process,
    /// which suits one node with the in-memory store; nodes sharing a session store must share the key, or a cookie
    /// issued by one node starts a new session on another.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The cookie's Max-Age, also the sliding expiry of a session in the store (default 1 day).</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Optional: the session id of an authenticated user (e.g. <c>u => u.Identity?.IsAuthenticated == true ? "user:" + u.Identity.Name : null</c>).
    /// When it returns a value it wins over the cookie; <c>null</c> falls back to the cookie.
    /// </summary>
    public Func<ClaimsPrincipal, string?>? SessionIdFromUser { get; set; }

    /// <summary>
    /// Checks a typed-message subscription (Socket.IO <c>herald:subscribe</c> or SSE <c>msgSource</c>/<c>msgType</c>).
    /// <c>null</c> (default): every subscription is refused (<c>forbidden</c>, SSE 403) — typed messages are private
    /// unless the application says who may read what, e.g.
    /// <c>r =&gt; ValueTask.FromResult(r.Source.Type == "Board")</c>.
    /// </summary>
    public Func<MessageSubscriptionRequest, ValueTask<bool>>? AuthorizeMessageSubscription { get; set; }

    /// <summary>The Socket.IO namespaces whose sockets join their session's rooms (default <c>/</c>).</summary>
    public IList<string> Namespaces { get; } = ["/"];

    /// <summary>The bus channel that carries session changes between nodes (default <c>sessions</c>; on Redis <c>herald:sessions</c>).</summary>
    public string BusChannel { get; set; } = "sessions";

    /// <summary>The most channels one subscribe or unsubscribe call may name (default 256); more is refused with <see cref="ArgumentException"/>.</summary>
    public int MaxChannelsPerCall { get; set; } = 256;

    /// <summary>
    /// The most channels one session may be in (default 1024): a subscribe that would go beyond it is refused with
    /// <see cref="InvalidOperationException"/> naming this option, and the session keeps its channels.
    /// </summary>
    public int MaxChannelsPerSession { get; set; } = 1024;

    /// <summary>
    /// Origins (exact, e.g. <c>https://app.example.com</c>) besides the request's own whose requests may use the
    /// <c>herald.sid</c> cookie. A WebSocket, polling or EventSource request carrying an <c>Origin</c> that is neither
    /// the server's own origin, nor listed here, nor among the Socket.IO CORS origins (for sockets) or
    /// <c>SseOptions.AllowedOrigins</c> (for EventSources) is not put in the cookie's session (cross-site WebSocket
    /// hijacking): it gets a new session of its own. <c>*</c> is never taken as "any origin" here.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>The most typed-message subscriptions one socket or EventSource may hold (default 64).</summary>
    public int MaxMessageSubscriptions { get; set; } = 64;

    /// <summary>The clock (expiry).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>A typed-message subscription to check (<see cref="HeraldSessionOptions.AuthorizeMessageSubscription"/>).</summary>
/// <param name="Session">The session of the client.</param>
/// <param name="Source">The source it wants messages from.</param>
/// <param name="MessageType">The message type name.</param>
/// <param name="Socket">The socket, for a Socket.IO subscription.</param>
/// <param name="HttpContext">The request, for an SSE subscription.</param>
public sealed record MessageSubscriptionRequest(HeraldSession Session, MessageSource Source, string MessageType, Socket? Socket, HttpContext? HttpContext);
