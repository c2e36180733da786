using Herald.Identity;
using Herald.Server.Api;

namespace Herald.Server.Hosting;

/// <summary>
/// Who connects (<c>Herald:Identity</c>, docs/identity.md): connection and channel tokens, backend proxy hooks, and
/// the server API that acts on a user's connections. Off unless a key source or a connect proxy is configured.
/// </summary>
public sealed class HubIdentityOptions
{
    /// <summary>The HS256 shared secret (at least 32 bytes).</summary>
    public string? HmacSecret { get; set; }

    /// <summary>An RSA or EC public key in PEM (RS256/ES256).</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>A file holding <see cref="PublicKeyPem"/>.</summary>
    public string? PublicKeyPemFile { get; set; }

    /// <summary>A JSON Web Key Set URL.</summary>
    public Uri? JwksUrl { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.JwksRefreshInterval"/>.</summary>
    public TimeSpan? JwksRefreshInterval { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.JwksMinRefreshInterval"/>.</summary>
    public TimeSpan? JwksMinRefreshInterval { get; set; }

    /// <summary>The required <c>iss</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The required <c>aud</c>.</summary>
    public string? Audience { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.ClockSkew"/>.</summary>
    public TimeSpan? ClockSkew { get; set; }

    /// <summary>Whether connections without a token (and no connect proxy) are refused (default false).</summary>
    public bool Required { get; set; }

    /// <summary>The cookie carrying the token, or none.</summary>
    public string? CookieName { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.RefreshGrace"/>.</summary>
    public TimeSpan? RefreshGrace { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.MaxChannelsPerToken"/>.</summary>
    public int? MaxChannelsPerToken { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.MaxChannelsPerConnection"/>.</summary>
    public int? MaxChannelsPerConnection { get; set; }

    /// <summary>See <see cref="HeraldIdentityOptions.PresenceEvents"/>.</summary>
    public bool PresenceEvents { get; set; }

    /// <summary>The Socket.IO namespaces checked (replaces the default <c>/</c> when set).</summary>
    public IList<string>? Namespaces { get; set; }

    /// <summary>Backend proxy hooks.</summary>
    public HubProxyOptions Proxy { get; set; } = new();

    /// <summary>Whether identity is configured at all.</summary>
    public bool Enabled => !string.IsNullOrEmpty(HmacSecret) || !string.IsNullOrEmpty(PublicKeyPem) || !string.IsNullOrEmpty(PublicKeyPemFile)
        || JwksUrl is not null || Proxy.ConnectUrl is not null;
}

/// <summary>Backend proxy hooks (<c>Herald:Identity:Proxy</c>); see <see cref="HeraldProxyOptions"/>.</summary>
public sealed class HubProxyOptions
{
    /// <summary>The connect proxy URL.</summary>
    public Uri? ConnectUrl { get; set; }

    /// <summary>The subscribe proxy URL.</summary>
    public Uri? SubscribeUrl { get; set; }

    /// <summary>The publish proxy URL.</summary>
    public Uri? PublishUrl { get; set; }

    /// <summary>The forwarded headers (replaces the default <c>Cookie</c>, <c>Authorization</c> when set).</summary>
    public IList<string>? ForwardHeaders { get; set; }

    /// <summary>The forwarded cookies (default: all but the hub's own).</summary>
    public IList<string>? ForwardCookies { get; set; }

    /// <summary>Headers added to every proxy call.</summary>
    public IDictionary<string, string>? Headers { get; set; }

    /// <summary>See <see cref="HeraldProxyOptions.Timeout"/>.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>See <see cref="HeraldProxyOptions.Retries"/>.</summary>
    public int? Retries { get; set; }

    /// <summary>See <see cref="HeraldProxyOptions.CacheTtl"/>.</summary>
    public TimeSpan? CacheTtl { get; set; }

    /// <summary>See <see cref="HeraldProxyOptions.CacheSize"/>.</summary>
    public int? CacheSize { get; set; }
}

/// <summary>Registers <c>AddHeraldIdentity</c> and the identity API commands from <see cref="HubIdentityOptions"/>.</summary>
internal static class HubIdentity
{
    public static void Add(IServiceCollection services, HubOptions hub)
    {
        var identity = hub.Identity;
        if (!identity.Enabled)
        {
            return;
        }

        var pem = identity.PublicKeyPem;
        if (!string.IsNullOrEmpty(identity.PublicKeyPemFile))
        {
            try
            {
                pem = File.ReadAllText(identity.PublicKeyPemFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HubConfigurationException($"Invalid Herald configuration: Herald:Identity:PublicKeyPemFile cannot be read ({e.Message}).", e);
            }
        }

        void Configure(HeraldIdentityOptions o)
        {
            o.HmacSecret = string.IsNullOrEmpty(identity.HmacSecret) ? null : identity.HmacSecret;
            o.PublicKeyPem = string.IsNullOrEmpty(pem) ? null : pem;
            o.JwksUrl = identity.JwksUrl;
            o.JwksRefreshInterval = identity.JwksRefreshInterval ?? o.JwksRefreshInterval;
            o.JwksMinRefreshInterval = identity.JwksMinRefreshInterval ?? o.JwksMinRefreshInterval;
            o.Issuer = identity.Issuer;
            o.Audience = identity.Audience;
            o.ClockSkew = identity.ClockSkew ?? o.ClockSkew;
            o.Required = identity.Required;
            o.PresenceEvents = identity.PresenceEvents;
            o.CookieName = string.IsNullOrEmpty(identity.CookieName) ? null : identity.CookieName;
            o.RefreshGrace = identity.RefreshGrace ?? o.RefreshGrace;
            o.MaxChannelsPerToken = identity.MaxChannelsPerToken ?? o.MaxChannelsPerToken;
            o.MaxChannelsPerConnection = identity.MaxChannelsPerConnection ?? o.MaxChannelsPerConnection;
            if (identity.Namespaces is { Count: > 0 } namespaces)
            {
                o.Namespaces.Clear();
                foreach (var ns in namespaces)
                {
                    o.Namespaces.Add(ns);
                }
            }

            var p = identity.Proxy;
            o.Proxy.ConnectUrl = p.ConnectUrl;
            o.Proxy.SubscribeUrl = p.SubscribeUrl;
            o.Proxy.PublishUrl = p.PublishUrl;
            o.Proxy.ForwardHeaders = p.ForwardHeaders is { Count: > 0 } headers ? [.. headers] : o.Proxy.ForwardHeaders;
            o.Proxy.ForwardCookies = p.ForwardCookies is { Count: > 0 } cookies ? [.. cookies] : o.Proxy.ForwardCookies;
            foreach (var (name, value) in p.Headers ?? new Dictionary<string, string>())
            {
                o.Proxy.Headers[name] = value;
            }

            o.Proxy.Timeout = p.Timeout ?? o.Proxy.Timeout;
            o.Proxy.Retries = p.Retries ?? o.Proxy.Retries;
            o.Proxy.CacheTtl = p.CacheTtl ?? o.Proxy.CacheTtl;
            o.Proxy.CacheSize = p.CacheSize ?? o.Proxy.CacheSize;
        }

        // Check the keys now, so that a bad secret or PEM stops the hub at start with the setting named.
        var probe = new HeraldIdentityOptions();
        Configure(probe);
        try
        {
            new ConnectionTokenValidator(Microsoft.Extensions.Options.Options.Create(probe)).Dispose();
        }
        catch (InvalidOperationException e)
        {
            throw new HubConfigurationException("Invalid Herald configuration: Herald:Identity: " + e.Message, e);
        }

        services.AddHeraldIdentity(Configure);
        services.AddHubCommand<UserSubscribeCommand>();
        services.AddHubCommand<UserUnsubscribeCommand>();
        services.AddHubCommand<UserSignOutCommand>();
        services.AddHubCommand<UserDisconnectCommand>();
    }
}
