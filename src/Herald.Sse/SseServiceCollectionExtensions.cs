using Herald.Sse;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Server-Sent Events server.</summary>
public static class SseServiceCollectionExtensions
{
    /// <summary>Adds the <see cref="SseServer"/> singleton and its options.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures <see cref="SseOptions"/>.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServerSentEvents(this IServiceCollection services, Action<SseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SseOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<SseServer>();
        return services;
    }
}
