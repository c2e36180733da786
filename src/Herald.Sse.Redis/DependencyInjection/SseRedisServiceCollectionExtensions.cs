using Herald.Redis;
using Herald.Sse;
using Herald.Sse.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis-backed SSE history.</summary>
public static class SseRedisServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="RedisSseHistoryStore"/> the <see cref="ISseHistoryStore"/> of the SSE server, so that a client
    /// reconnecting to another node of the cluster gets what it missed. It uses the Redis connection shared with the
    /// bus and the session store (<c>AddHeraldRedisConnection</c>, registered here if it is not yet).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis connection string: <c>"localhost:6379,password=x"</c>.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServerSentEventsRedisHistory(this IServiceCollection services, string connectionString, Action<RedisSseHistoryStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldRedisConnection(connectionString);
        var options = services.AddOptions<RedisSseHistoryStoreOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => new RedisSseHistoryStore(
            sp.GetRequiredService<IHeraldRedisConnection>(),
            sp.GetRequiredService<IOptions<RedisSseHistoryStoreOptions>>(),
            sp.GetService<ILoggerFactory>()));
        services.RemoveAll<ISseHistoryStore>();
        services.AddSingleton<ISseHistoryStore>(sp => sp.GetRequiredService<RedisSseHistoryStore>());
        return services;
    }
}
