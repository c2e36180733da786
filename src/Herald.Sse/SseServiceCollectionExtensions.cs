using Herald.Messaging.Emitters;
using Herald.Sse;
using Herald.Sse.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Server-Sent Events server.</summary>
public static class SseServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="SseServer"/> singleton and its options, the message channel (<c>AddHeraldMessaging</c>: the
    /// in-memory bus unless another <c>IMessageBus</c> is registered), the <see cref="SseEmitter"/> that pushes through
    /// the bus, and the <see cref="SseBusConsumer"/> that delivers bus pushes to this node's clients.
    /// </summary>
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

        services.AddHeraldMessaging();
        services.TryAddSingleton<SseServer>();
        services.TryAddSingleton<SseEmitter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SseBusConsumer>());
        return services;
    }
}
