namespace Herald.Identity;

/// <summary>
/// How the hub learns who a connection is (<c>services.AddHeraldIdentity(o =&gt; ...)</c>): a connection token (a JWT
/// the application's backend signs, whose <c>sub</c> is the user id and whose optional <c>channels</c> claim lists the
/// channels the connection receives), and/or backend proxy hooks (<see cref="Proxy"/>). At most one key source is
/// used: <see cref="HmacSecret"/> (HS256/384/512), <see cref="PublicKeyPem"/> (RS*/PS*/ES*), or <see cref="JwksUrl"/>
/// (keys by <c>kid</c>, refreshed); with none, only the connect proxy can identify connections.
/// </summary>
public sealed class HeraldIdentityOptions
{
    /// <summary>The shared secret of HS256 tokens (UTF-8, at least 32 bytes), or <c>null</c>.</summary>
    public string? HmacSecret { get; set; }

    /// <summary>An RSA or EC public key in PEM (<c>-----BEGIN PUBLIC KEY-----</c>) for RS256/ES256 tokens, or <c>null</c>.</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>A JSON Web Key Set URL (<c>https://auth.example.com/.well-known/jwks.json</c>), or <c>null</c>.</summary>
    public Uri? JwksUrl { get; set; }

    /// <summary>How long fetched JWKS keys are used before they are fetched again (default 1 hour).</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The least time between two JWKS fetches (default 30 s): a token whose <c>kid</c> is unknown triggers a fetch (key
    /// rotation), at most this often, so that a flood of forged <c>kid</c>s cannot hammer the key server.
    /// </summary>
    public TimeSpan JwksMinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a JWKS fetch may take (default 10 s).</summary>
    public TimeSpan JwksTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest JWKS document accepted, in bytes (default 256 KiB).</summary>
    public int JwksMaxBytes { get; set; } = 256 * 1024;

    /// <summary>The required <c>iss</c>, or <c>null</c> not to check it.</summary>
    public string? Issuer { get; set; }

    /// <summary>The required <c>aud</c>, or <c>null</c> not to check it.</summary>
    public string? Audience { get; set; }

    /// <summary>Tolerated clock difference for <c>exp</c> and <c>nbf</c> (default 30 s).</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether a token must carry <c>exp</c> (default true: a token that never expires cannot be revoked by time).</summary>
    public bool RequireExpiration { get; set; } = true;

    /// <summary>
    /// Whether a connection without a token is refused (default false: it connects anonymously, with no user and no
    /// channel). A token that is present but bad is always refused.
    /// </summary>
    public bool Required { get; set; }

    /// <summary>The EventSource query parameter carrying the token (default <c>token</c>: <c>/events?token=…</c>).</summary>
    public string QueryName { get; set; } = "token";

    /// <summary>The cookie carrying the token, or <c>null</c> (default) not to read one.</summary>
    public string? CookieName { get; set; }

    /// <summary>The most channels a token's <c>channels</c> claim may list (default 64); more refuses the token.</summary>
    public int MaxChannelsPerToken { get; set; } = 64;

    /// <summary>
    /// The most channels one connection may be in (token channels plus channel-token subscriptions; default 128);
    /// a subscription beyond it is refused with <c>too-many</c>.
    /// </summary>
    public int MaxChannelsPerConnection { get; set; } = 128;

    /// <summary>The EventSource query parameters naming a channel and its channel token, in pairs (<c>?channel=a&amp;channelToken=…</c>).</summary>
    public string ChannelQueryName { get; set; } = "channel";

    /// <summary>The query parameter carrying the channel token that goes with each <see cref="ChannelQueryName"/>.</summary>
    public string ChannelTokenQueryName { get; set; } = "channelToken";

    /// <summary>The longest token accepted, in characters (default 8192).</summary>
    public int MaxTokenLength { get; set; } = 8192;

    /// <summary>
    /// How long a connection whose token expired has to present a new one (default 30 s). Socket.IO: the server emits
    /// <c>herald:refresh</c> <c>{expiresAt, deadline}</c> with an acknowledgement; the client answers
    /// <c>{token}</c> (or emits <c>herald:refresh</c> <c>{token}</c> itself at any time). SSE: the event
    /// <c>herald:refresh</c> tells the page to reopen the EventSource with a new token. At the deadline the connection
    /// is disconnected.
    /// </summary>
    public TimeSpan RefreshGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether channel members receive <c>herald:join</c> / <c>herald:leave</c> <c>({user}, channel)</c> when a connection
    /// with a user enters or leaves a channel (default false). Cost: one bus publication per channel per join or leave.
    /// </summary>
    public bool PresenceEvents { get; set; }

    /// <summary>Backend proxy hooks (connect, subscribe, publish).</summary>
    public HeraldProxyOptions Proxy { get; set; } = new();

    /// <summary>The Socket.IO namespaces whose connections are checked (default <c>/</c>).</summary>
    public IList<string> Namespaces { get; } = ["/"];

    /// <summary>The clock (token lifetimes, refresh deadlines).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
