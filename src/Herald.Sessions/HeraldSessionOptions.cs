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

    /// <summary>Whether the cookie is <c>Secure</c>: by default only when the request is HTTPS.</summary>
    public CookieSecurePolicy CookieSecure { get; set; } = CookieSecurePolicy.SameAsRequest;

    /// <summary>The cookie's Max-Age, also the sliding expiry of a session in the store (default 1 day).</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Optional: the session id of an authenticated user (e.g. <c>u => u.Identity?.IsAuthenticated == true ? "user:" + u.Identity.Name : null</c>).
    /// When it returns a value it wins over the cookie; <c>null</c> falls back to the cookie.
    /// </summary>
    public Func<ClaimsPrincipal, string?>? SessionIdFromUser { get; set; }

    /// <summary>
    /// Checks a typed-message subscription (Socket.IO <c>herald:subscribe</c> or SSE query). Default: every
    /// subscription is allowed.
    /// </summary>
    public Func<MessageSubscriptionRequest, ValueTask<bool>>? AuthorizeMessageSubscription { get; set; }

    /// <summary>The Socket.IO namespaces whose sockets join their session's rooms (default <c>/</c>).</summary>
    public IList<string> Namespaces { get; } = ["/"];

    /// <summary>The bus channel that carries session changes between nodes (default <c>sessions</c>; on Redis <c>herald:sessions</c>).</summary>
    public string BusChannel { get; set; } = "sessions";

    /// <summary>The most channels one session may be in (default 256); more is refused with <see cref="InvalidOperationException"/>.</summary>
    public int MaxChannelsPerCall { get; set; } = 256;

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
