namespace Herald.Redis;

/// <summary>Options of <see cref="RedisMessageBus"/> (<c>services.AddHeraldRedis(connectionString, o =&gt; ...)</c>).</summary>
public sealed class RedisMessageBusOptions
{
    /// <summary>
    /// Where and how to connect when the bus makes its own connection (<c>new RedisMessageBus(node, options)</c>);
    /// <c>AddHeraldRedis</c> fills it from the connection string. A bus given an <see cref="IHeraldRedisConnection"/>
    /// uses that connection instead.
    /// </summary>
    public RedisConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Prepended with a colon to every bus channel on Redis (default <c>herald</c>: bus channel
    /// <c>topic:greeting</c> is Redis channel <c>herald:topic:greeting</c>), so several applications can
    /// share one Redis. Empty for none. Must not contain the pattern characters <c>*?[]\</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = "herald";

    /// <summary>
    /// Classic (<c>PUBLISH</c>/<c>SUBSCRIBE</c>) or sharded (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>, Redis 7+) pub/sub.
    /// <see cref="RedisPubSubMode.Auto"/> (the default) picks sharded when the server is a Redis Cluster, so that a
    /// publication goes to the shard that owns its channel instead of to every node of the cluster.
    /// </summary>
    public RedisPubSubMode PubSubMode { get; set; } = RedisPubSubMode.Auto;

    /// <summary>
    /// How many publications are kept while Redis is unreachable and sent, in order, once the bus is connected
    /// again (10,000; 0 turns the buffer off). A publication that does not fit is dropped: counted in
    /// <see cref="RedisMessageBusCounters.Dropped"/>, logged, and <c>PublishAsync</c> throws.
    /// </summary>
    public int OutageBufferSize { get; set; } = 10_000;

    /// <summary>The most bytes of payload the outage buffer holds (16 MiB).</summary>
    public long OutageBufferBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long the bus waits, once connected again, before it sends what it buffered (1 s), so that the other
    /// nodes, reconnecting too, have restored their subscriptions: Redis pub/sub keeps nothing for an absent subscriber.
    /// </summary>
    public TimeSpan OutageReplayDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the replay may wait, after <see cref="OutageReplayDelay"/>, for every channel in the buffer to have again
    /// as many subscribers as its last publication before the outage reached (10 s; classic pub/sub on one Redis or
    /// Sentinel, where <c>PUBSUB NUMSUB</c> sees them all). A subscriber still missing then misses the replay, which
    /// is counted in <see cref="RedisMessageBusCounters.Undelivered"/>.
    /// </summary>
    public TimeSpan OutageResubscribeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the bus checks its connection besides reacting to StackExchange.Redis's connection events (250 ms):
    /// the upper bound on how late <see cref="Herald.Messaging.IMessageBus.State"/> (and so <c>/readyz</c>) follows it.
    /// </summary>
    public TimeSpan StateCheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// While Redis cannot be reached (at start or during an outage) the bus logs one Warning line (event 2012, no stack
    /// trace) at once and then every this often (5 s).
    /// </summary>
    public TimeSpan UnreachableWarningInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Which Redis pub/sub the bus uses.</summary>
public enum RedisPubSubMode
{
    /// <summary>Sharded when the server is a Redis Cluster (7.0 or newer), classic otherwise.</summary>
    Auto,

    /// <summary><c>PUBLISH</c>/<c>SUBSCRIBE</c>/<c>PSUBSCRIBE</c>: every node of a cluster carries every publication.</summary>
    Classic,

    /// <summary>
    /// <c>SPUBLISH</c>/<c>SSUBSCRIBE</c>: a publication goes to the shard owning its channel. Redis has no sharded
    /// pattern subscription: <c>SubscribePatternAsync</c> (wildcard topics of the message channel) throws
    /// <see cref="NotSupportedException"/>.
    /// </summary>
    Sharded,
}

/// <summary>Publication counters of a <see cref="RedisMessageBus"/> (monotonic, thread-safe).</summary>
public sealed class RedisMessageBusCounters
{
    internal long _published;
    internal long _buffered;
    internal long _replayed;
    internal long _dropped;
    internal long _failed;
    internal long _undelivered;

    /// <summary>Publications Redis accepted (replayed ones included).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Publications kept in the outage buffer.</summary>
    public long Buffered => Interlocked.Read(ref _buffered);

    /// <summary>Buffered publications sent after the reconnection.</summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Publications dropped because the outage buffer was full (or off) while Redis was unreachable.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Deliveries lost in a replay: for each replayed publication, how many fewer subscribers Redis reached than the
    /// same channel's last publication before the outage did (a node that had not resubscribed yet, or never came back).
    /// </summary>
    public long Undelivered => Interlocked.Read(ref _undelivered);

    /// <summary>
    /// Publications that were written but whose connection broke before Redis answered, or that timed out: Redis may
    /// or may not have delivered them (not retried, to avoid duplicates). Also those refused because the bus had never
    /// reached Redis yet (before the first connection there is no outage buffer).
    /// </summary>
    public long Failed => Interlocked.Read(ref _failed);
}
