using Herald.Redis;
using Herald.Sessions;
using Herald.Sessions.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis session store.</summary>
public static class RedisSessionsServiceCollectionExtensions
{
    /// <summary>
    /// Keeps sessions in Redis (<see cref="RedisSessionStore"/>), so that every node sees the same channels and users:
    /// <c>services.AddHeraldRedis("localhost:6379").AddHeraldRedisSessions("localhost:6379").AddHeraldSessions()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The Redis connection string (<c>host:port,password=…</c>).</param>
    /// <param name="configure">Adjusts the store options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldRedisSessions(this IServiceCollection services, string connectionString, Action<RedisSessionStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        services.AddOptions<RedisSessionStoreOptions>().Configure(o =>
        {
            o.Connection = RedisConnectionOptions.Parse(connectionString);
            configure?.Invoke(o);
        });
        services.AddSingleton<RedisSessionStore>();
        services.AddSingleton<ISessionStore>(static sp => sp.GetRequiredService<RedisSessionStore>());
        return services;
    }
}
