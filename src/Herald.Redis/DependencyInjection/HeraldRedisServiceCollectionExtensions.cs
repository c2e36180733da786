using Herald.Messaging;
using Herald.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis message bus.</summary>
public static class HeraldRedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Herald message channel (<see cref="HeraldMessagingServiceCollectionExtensions.AddHeraldMessaging"/>)
    /// with <see cref="RedisMessageBus"/> as the <see cref="IMessageBus"/>, replacing the in-memory bus.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis style connection string: <c>"localhost:6379,password=x,defaultDatabase=0"</c>.</param>
    /// <param name="configure">Adjusts the options (channel prefix, timeouts) after the connection string is applied.</param>
    public static IServiceCollection AddHeraldRedis(this IServiceCollection services, string connectionString, Action<RedisMessageBusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var connection = RedisConnectionOptions.Parse(connectionString);
        services.AddHeraldMessaging();
        services.AddOptions<RedisMessageBusOptions>().Configure(o =>
        {
            o.Connection = connection;
            configure?.Invoke(o);
        });
        services.RemoveAll<IMessageBus>();
        services.AddSingleton<RedisMessageBus>();
        services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<RedisMessageBus>());
        return services;
    }
}
