using Herald.Messaging;
using Herald.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis connection and the Redis message bus.</summary>
public static class HeraldRedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers the one <see cref="IHeraldRedisConnection"/> that the Herald Redis services of this process share
    /// (bus, SSE history, sessions). Calling it again with the same connection string does nothing; with another one
    /// it throws, since one process talks to one Redis.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis connection string: <c>"redis:6379,ssl=true,user=app,password=secret"</c>.</param>
    /// <param name="configure">Adjusts the connection options (TLS certificate checks, reconnection delays) after the string is parsed.</param>
    /// <returns>The services.</returns>
    /// <exception cref="FormatException">The connection string is invalid.</exception>
    /// <exception cref="InvalidOperationException">Another connection string was registered before.</exception>
    public static IServiceCollection AddHeraldRedisConnection(this IServiceCollection services, string connectionString, Action<RedisConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(RedisConnectionRegistration))?.ImplementationInstance as RedisConnectionRegistration;
        if (existing is not null)
        {
            if (!string.Equals(existing.ConnectionString, connectionString, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A Herald Redis connection with another connection string is already registered: the bus, the SSE history and the session store share one connection.");
            }

            if (configure is not null)
            {
                existing.Configure += configure;
            }

            return services;
        }

        var options = RedisConnectionOptions.Parse(connectionString);
        var registration = new RedisConnectionRegistration(connectionString, options);
        if (configure is not null)
        {
            registration.Configure += configure;
        }

        services.AddSingleton(registration);
        services.TryAddSingleton<IHeraldRedisConnection>(sp =>
        {
            var r = sp.GetRequiredService<RedisConnectionRegistration>();
            r.Configure?.Invoke(r.Options);
            return new HeraldRedisConnection(r.Options, sp.GetService<ILoggerFactory>());
        });
        return services;
    }

    /// <summary>
    /// Registers the Herald message channel (<see cref="HeraldMessagingServiceCollectionExtensions.AddHeraldMessaging"/>)
    /// with <see cref="RedisMessageBus"/> as the <see cref="IMessageBus"/>, replacing the in-memory bus, on the shared
    /// connection (<see cref="AddHeraldRedisConnection"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis connection string: <c>"localhost:6379,password=x"</c>, <c>"redis:6380,ssl=true"</c>,
    /// <c>"sentinel-1:26379,sentinel-2:26379,serviceName=mymaster"</c>, <c>"node-1:7000,node-2:7000"</c> (Cluster).</param>
    /// <param name="configure">Adjusts the bus options (channel prefix, pub/sub mode, outage buffer; <c>o.Connection</c> for TLS checks and reconnection delays).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldRedis(this IServiceCollection services, string connectionString, Action<RedisMessageBusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldRedisConnection(connectionString, configure is null ? null : c =>
        {
            // The bus's configure callback may adjust the shared connection (o.Connection...).
            var probe = new RedisMessageBusOptions { Connection = c };
            configure(probe);
        });
        services.AddHeraldMessaging();
        services.AddOptions<RedisMessageBusOptions>().Configure<IHeraldRedisConnection>((o, connection) =>
        {
            o.Connection = connection.Options;
            configure?.Invoke(o);
        });
        services.RemoveAll<IMessageBus>();
        services.AddSingleton(sp => new RedisMessageBus(
            sp.GetRequiredService<HeraldNode>(),
            sp.GetRequiredService<IHeraldRedisConnection>(),
            sp.GetRequiredService<IOptions<RedisMessageBusOptions>>(),
            sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<RedisMessageBus>());
        return services;
    }
}

/// <summary>Registers the Redis Streams message bus.</summary>
public static class HeraldRedisStreamsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Herald message channel (<see cref="HeraldMessagingServiceCollectionExtensions.AddHeraldMessaging"/>)
    /// with <see cref="RedisStreamsMessageBus"/> as the <see cref="IMessageBus"/>, replacing the in-memory (or pub/sub)
    /// bus: publications are <c>XADD</c>s to a Redis stream that every process reads from its own last id, so an outage
    /// shorter than the stream's retention loses nothing (docs/reliability.md). Publishes on the shared connection
    /// (<see cref="HeraldRedisServiceCollectionExtensions.AddHeraldRedisConnection"/>) and reads on connections of its own.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">A StackExchange.Redis connection string (as for <c>AddHeraldRedis</c>).</param>
    /// <param name="configure">Adjusts the bus options (retention, streams, outage buffer; <c>o.Connection</c> for TLS checks and reconnection delays).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldRedisStreams(this IServiceCollection services, string connectionString, Action<RedisStreamsMessageBusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeraldRedisConnection(connectionString, configure is null ? null : c =>
        {
            var probe = new RedisStreamsMessageBusOptions { Connection = c };
            configure(probe);
        });
        services.AddHeraldMessaging();
        services.AddOptions<RedisStreamsMessageBusOptions>().Configure<IHeraldRedisConnection>((o, connection) =>
        {
            o.Connection = connection.Options;
            configure?.Invoke(o);
        });
        services.RemoveAll<IMessageBus>();
        services.RemoveAll<RedisMessageBus>();
        services.AddSingleton(sp => new RedisStreamsMessageBus(
            sp.GetRequiredService<HeraldNode>(),
            sp.GetRequiredService<IHeraldRedisConnection>(),
            sp.GetRequiredService<IOptions<RedisStreamsMessageBusOptions>>(),
            sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<RedisStreamsMessageBus>());
        return services;
    }
}

/// <summary>The connection string registered by <c>AddHeraldRedisConnection</c> (so a second registration can be checked against it).</summary>
internal sealed class RedisConnectionRegistration(string connectionString, RedisConnectionOptions options)
{
    public string ConnectionString { get; } = connectionString;

    public RedisConnectionOptions Options { get; } = options;

    public Action<RedisConnectionOptions>? Configure { get; set; }
}
