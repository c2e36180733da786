using Herald.Messaging.Publish;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <see cref="Publisher"/> facade (<c>Publish.All/Channel/User/SocketId</c>, <c>SendMessage</c>).</summary>
public static class HeraldPublisherServiceCollectionExtensions
{
    /// <summary>
    /// Registers the message channel (<c>AddHeraldMessaging</c>) and the <see cref="Publisher"/> singleton. A worker
    /// process needs only this plus a shared bus (e.g. <c>AddHeraldRedis</c>) to reach the browsers of every web node.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts <see cref="PublisherOptions"/>.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldPublisher(this IServiceCollection services, Action<PublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldMessaging();
        var options = services.AddOptions<PublisherOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<Publisher>();
        return services;
    }
}
