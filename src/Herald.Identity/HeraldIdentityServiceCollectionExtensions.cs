using Herald.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Herald.Sse;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Herald identity: connection tokens, channel tokens, token refresh.</summary>
public static class HeraldIdentityServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="ConnectionTokenValidator"/> and the <see cref="HeraldIdentityManager"/> (a hosted service that
    /// hooks the Socket.IO namespaces of <see cref="HeraldIdentityOptions.Namespaces"/> and the SSE endpoint at start).
    /// The SSE check runs before <c>AddHeraldSessions</c>' hook and the application's own
    /// <see cref="SseOptions.Authorize"/>, whatever the order of the calls.
    /// </summary>
    /// <param name="services">The services (with <c>AddSocketIO</c> and/or <c>AddServerSentEvents</c>).</param>
    /// <param name="configure">Sets the key source and the checks.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldIdentity(this IServiceCollection services, Action<HeraldIdentityOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<HeraldIdentityOptions>().Configure(configure);
        services.TryAddSingleton<ConnectionTokenValidator>();
        services.TryAddSingleton<HeraldIdentityManager>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HeraldIdentityManager>(static sp => sp.GetRequiredService<HeraldIdentityManager>()));

        // First among the SSE post-configurations, so that its wrapper is the innermost one around the application's
        // hook: the session layer (AddHeraldSessions) then sees the identity's topics as granted by the application.
        var setup = ServiceDescriptor.Singleton<IPostConfigureOptions<SseOptions>, SseIdentityOptionsSetup>();
        if (!services.Any(d => d.ServiceType == setup.ServiceType && d.ImplementationType == typeof(SseIdentityOptionsSetup)))
        {
            services.Insert(0, setup);
        }

        return services;
    }
}
