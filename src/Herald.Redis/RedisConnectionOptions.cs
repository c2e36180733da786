using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Where and how to connect to Redis: a StackExchange.Redis <see cref="ConfigurationOptions"/> (built from a connection
/// string with <see cref="Parse"/>) plus what Herald adds. Every StackExchange.Redis option applies: several endpoints
/// (<c>"redis-a:6379,redis-b:6379"</c>), TLS (<c>ssl=true</c>, <c>sslHost=</c>), ACL (<c>user=</c>, <c>password=</c>),
/// Sentinel (<c>serviceName=</c> with the sentinels as endpoints), Redis Cluster (any node as endpoint).
/// </summary>
public sealed class RedisConnectionOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration. <see cref="Parse"/> turns <see cref="ConfigurationOptions.AbortOnConnectFail"/>
    /// off unless the string sets <c>abortConnect</c>, so that an application starts while Redis is down and connects
    /// when it comes up. Add a TLS certificate check here (<see cref="ConfigurationOptions.CertificateValidation"/>,
    /// <see cref="ConfigurationOptions.TrustIssuer(string)"/>) when the server's certificate is not trusted by the machine.
    /// </summary>
    /// <remarks>
    /// Herald also sets <see cref="ConfigurationOptions.BacklogPolicy"/> to <see cref="BacklogPolicy.FailFast"/>: while
    /// Redis is unreachable a command fails at once instead of waiting in StackExchange.Redis's backlog (the bus keeps
    /// publications in its own outage buffer, counted, and sends them after the other nodes have resubscribed).
    /// </remarks>
    public ConfigurationOptions Configuration { get; set; } = new() { AbortOnConnectFail = false, BacklogPolicy = BacklogPolicy.FailFast, EndPoints = { "localhost:6379" } };

    /// <summary>
    /// The first delay before reconnecting, growing exponentially up to <see cref="ReconnectMaxDelay"/>; null keeps
    /// the configuration's <see cref="ConfigurationOptions.ReconnectRetryPolicy"/>.
    /// </summary>
    public TimeSpan? ReconnectMinDelay { get; set; }

    /// <summary>The longest delay between reconnection attempts (default 5 s when <see cref="ReconnectMinDelay"/> is set).</summary>
    public TimeSpan? ReconnectMaxDelay { get; set; }

    /// <summary>The clock for Herald's own delays (outage replay, state checks); tests inject their own.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Parses a StackExchange.Redis connection string:
    /// <c>"redis.example.com:6380,ssl=true,user=app,password=secret,abortConnect=false"</c>.
    /// </summary>
    /// <param name="connectionString">The connection string.</param>
    /// <returns>The options.</returns>
    /// <exception cref="FormatException">The string is not a valid connection string (an unknown option, a bad value, no endpoint).</exception>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Invalid Redis connection string: {e.Message}", e);
        }

        if (configuration.EndPoints.Count == 0)
        {
            throw new FormatException("Invalid Redis connection string: it names no endpoint (host:port).");
        }

        if (!connectionString.Contains("abortConnect", StringComparison.OrdinalIgnoreCase))
        {
            configuration.AbortOnConnectFail = false;
        }

        configuration.BacklogPolicy = BacklogPolicy.FailFast;

        return new RedisConnectionOptions { Configuration = configuration };
    }

    /// <summary>A copy of <see cref="Configuration"/> with Herald's settings applied, for <c>ConnectionMultiplexer.ConnectAsync</c>.</summary>
    /// <returns>The configuration to connect with.</returns>
    public ConfigurationOptions ToConfiguration()
    {
        var configuration = Configuration.Clone();
        if (ReconnectMinDelay is { } min)
        {
            var max = ReconnectMaxDelay ?? TimeSpan.FromSeconds(5);
            configuration.ReconnectRetryPolicy = new ExponentialRetry((int)Math.Max(1, min.TotalMilliseconds), (int)Math.Max(min.TotalMilliseconds, max.TotalMilliseconds));
        }

        return configuration;
    }

    /// <summary>The endpoints and options, without the password, for logs.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => Configuration.ToString(includePassword: false);
}
