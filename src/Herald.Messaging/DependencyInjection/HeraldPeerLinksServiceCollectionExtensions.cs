using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers peer links, the decentralised message channel.</summary>
public static class HeraldPeerLinksServiceCollectionExtensions
{
    /// <summary>
    /// Wraps the registered <see cref="IMessageBus"/> (the in-memory bus, or Redis when <c>AddHeraldRedis</c> was
    /// called before) in a <see cref="PeerLinkMessageBus"/>, which then is the <see cref="IMessageBus"/> of the
    /// process and opens the links of <see cref="PeerLinkOptions.Peers"/>. Call it after the bus registration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adds peers and sets the key, delays and limits.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldPeerLinks(this IServiceCollection services, Action<PeerLinkOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldMessaging();
        services.AddOptions<PeerLinkOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(PeerLinkMessageBus)))
        {
            return services;
        }

        var inner = services.Last(d => d.ServiceType == typeof(IMessageBus) && !d.IsKeyedService);
        services.RemoveAll<IMessageBus>();
        services.AddSingleton(sp =>
        {
            var (local, owned) = Resolve(inner, sp);
            return new PeerLinkMessageBus(local, sp.GetRequiredService<IOptions<PeerLinkOptions>>().Value, sp.GetService<ILoggerFactory>(), owned);
        });
        services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<PeerLinkMessageBus>());
        return services;
    }

    // The decorated registration is resolved by hand (it is no longer registered under IMessageBus). A bus the
    // container would have built from a type is built here and owned by the peer-link bus; one from a factory or
    // an instance stays owned by whoever made it.
    private static (IMessageBus Bus, bool Owned) Resolve(ServiceDescriptor inner, IServiceProvider services)
    {
        if (inner.ImplementationInstance is IMessageBus instance)
        {
            return (instance, false);
        }

        if (inner.ImplementationFactory is { } factory)
        {
            return ((IMessageBus)factory(services), false);
        }

        return ((IMessageBus)ActivatorUtilities.CreateInstance(services, inner.ImplementationType!), true);
    }
}
