using Herald.Messaging.PeerLinks;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the channel endpoint that other nodes link to.</summary>
public static class HeraldChannelServiceCollectionExtensions
{
    /// <summary>
    /// Registers the message channel (<c>AddHeraldMessaging</c>) and the <see cref="PeerLinkServer"/> that
    /// <c>app.MapHeraldChannel()</c> serves. The key is required: <c>o =&gt; o.Key = config["Herald:ChannelKey"]</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the key and the limits.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldChannel(this IServiceCollection services, Action<PeerLinkServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldMessaging();
        services.AddOptions<PeerLinkServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<PeerLinkServer>();
        return services;
    }
}
