using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Socket.IO cluster adapter.</summary>
public static class ClusterAdapterServiceCollectionExtensions
{
    /// <summary>
    /// Makes every namespace use a <see cref="ClusterAdapter"/> over the registered <c>IMessageBus</c> (the
    /// in-memory bus unless another is registered, e.g. with <c>AddHeraldRedis</c>):
    /// <c>services.AddSocketIO().AddClusterAdapter()</c>. Broadcasts, rooms, fetchSockets and acks then span every
    /// node sharing the bus, and <c>SocketIOEmitter</c> in any process reaches this node's clients.
    /// </summary>
    /// <param name="services">The services (after <c>AddSocketIO</c>).</param>
    /// <param name="configure">Adjusts the heartbeat, request timeout and channel prefix.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddClusterAdapter(this IServiceCollection services, Action<ClusterAdapterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldMessaging();
        var options = services.AddOptions<ClusterAdapterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<ClusterAdapterLifetime>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterAdapterLifetime>(static sp => sp.GetRequiredService<ClusterAdapterLifetime>()));
        services.AddOptions<SocketIOOptions>().Configure<ClusterAdapterLifetime>(static (o, lifetime) => o.AdapterFactory ??= lifetime.Create);
        return services;
    }
}
