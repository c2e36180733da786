using Herald.Redis;
using Herald.Sessions;
using Herald.Sessions.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis session store.</summary>
public static class RedisSessionsServiceCollectionExtensions
{
    /// <summary>
    /// Keeps sessions in Redis (<see cref="RedisSessionStore"/>), so that every node sees the same channels and users:
    /// <c>services.AddHeraldRedis("localhost:6379").AddHeraldRedisSessions("localhost:6379").AddHeraldSessions()</c>.
    /// It uses the Redis connection shared with the bus and the SSE history (<c>AddHeraldRedisConnection</c>, registered
    /// here if it is not yet).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The Redis connection string (<c>host:port,password=…</c>).</param>
    /// <param name="configure">Adjusts the store options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldRedisSessions(this IServiceCollection services, string connectionString, Action<RedisSessionStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        services.AddHeraldRedisConnection(connectionString);
        var options = services.AddOptions<RedisSessionStoreOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => new RedisSessionStore(
            sp.GetRequiredService<IHeraldRedisConnection>(),
            sp.GetRequiredService<IOptions<RedisSessionStoreOptions>>(),
            sp.GetService<IOptions<HeraldSessionOptions>>()));
        services.RemoveAll<ISessionStore>();
        services.AddSingleton<ISessionStore>(static sp => sp.GetRequiredService<RedisSessionStore>());
        return services;
    }
}
