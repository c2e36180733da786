using Herald.Redis;
using Herald.Sse;
using Herald.Sse.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis-backed SSE history.</summary>
public static class SseRedisServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="RedisSseHistoryStore"/> the <see cref="ISseHistoryStore"/> of the SSE server, so that a client
    /// reconnecting to another node of the cluster gets what it missed.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis style connection string: <c>"localhost:6379,password=x"</c>.</param>
    /// <param name="configure">Adjusts the options after the connection string is applied.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServerSentEventsRedisHistory(this IServiceCollection services, string connectionString, Action<RedisSseHistoryStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var connection = RedisConnectionOptions.Parse(connectionString);
        services.AddOptions<RedisSseHistoryStoreOptions>().Configure(o =>
        {
            o.Connection = connection;
            configure?.Invoke(o);
        });
        services.TryAddSingleton<RedisSseHistoryStore>();
        services.RemoveAll<ISseHistoryStore>();
        services.AddSingleton<ISseHistoryStore>(sp => sp.GetRequiredService<RedisSseHistoryStore>());
        return services;
    }
}
