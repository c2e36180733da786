namespace Herald.Redis;

/// <summary>Options of <see cref="RedisMessageBus"/> (<c>services.AddHeraldRedis(connectionString, o =&gt; ...)</c>).</summary>
public sealed class RedisMessageBusOptions
{
    /// <summary>Where and how to connect; <c>AddHeraldRedis</c> fills it from the connection string.</summary>
    public RedisConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Prepended with a colon to every bus channel on Redis (default <c>herald</c>: bus channel
    /// <c>topic:greeting</c> is Redis channel <c>herald:topic:greeting</c>), so several applications can
    /// share one Redis. Empty for none. Must not contain the pattern characters <c>*?[]\</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = "herald";
}
