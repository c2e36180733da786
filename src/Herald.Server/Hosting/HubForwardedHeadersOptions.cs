using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Herald.Server.Hosting;

/// <summary>
/// <c>Herald:ForwardedHeaders</c>: honour <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from the TLS-terminating
/// proxy in front of the hub (docs/deployment.md), so that <c>Request.IsHttps</c> is true there and the
/// <c>herald.sid</c> cookie is <c>Secure</c>. Off by default: from anyone else the headers would let a client claim
/// https or another address.
/// </summary>
public sealed class HubForwardedHeadersOptions
{
    /// <summary>Whether forwarded headers are honoured (default <c>false</c>).</summary>
    public bool Enabled { get; set; }

    /// <summary>Addresses of the proxies trusted to set them (default: none listed, which means loopback only).</summary>
    public IList<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) of trusted proxies.</summary>
    public IList<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies deep to read the headers (default 1).</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>The problems of these settings, as <c>(key, message)</c> pairs; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        for (var i = 0; i < KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(KnownProxies[i], out _))
            {
                yield return ($"ForwardedHeaders:KnownProxies:{i}", $"'{KnownProxies[i]}' is not an IP address.");
            }
        }

        for (var i = 0; i < KnownNetworks.Count; i++)
        {
            if (!System.Net.IPNetwork.TryParse(KnownNetworks[i], out _))
            {
                yield return ($"ForwardedHeaders:KnownNetworks:{i}", $"'{KnownNetworks[i]}' is not a network in CIDR notation.");
            }
        }

        if (ForwardLimit < 1)
        {
            yield return ("ForwardedHeaders:ForwardLimit", "must be at least 1.");
        }
    }

    /// <summary>The middleware options for these settings.</summary>
    /// <returns>The options.</returns>
    public ForwardedHeadersOptions ToMiddlewareOptions()
    {
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = ForwardLimit,
        };
        if (KnownProxies.Count > 0 || KnownNetworks.Count > 0)
        {
            // Listed proxies replace the loopback default.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        }

        return options;
    }
}
