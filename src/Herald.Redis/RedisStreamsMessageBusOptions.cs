namespace Herald.Redis;

/// <summary>Options of <see cref="RedisStreamsMessageBus"/> (<c>services.AddHeraldRedisStreams(connectionString, o =&gt; ...)</c>).</summary>
public sealed class RedisStreamsMessageBusOptions
{
    /// <summary>
    /// Where and how to connect when the bus makes its own connection; <c>AddHeraldRedisStreams</c> fills it from the
    /// connection string. The bus also opens one reading connection per stream from these options (a blocking
    /// <c>XREAD</c> must not share the multiplexer that publishes).
    /// </summary>
    public RedisConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Prefix of the Redis keys (default <c>herald</c>): the stream is <c>herald:stream</c> (with
    /// <see cref="StreamCount"/> above 1: <c>herald:stream:0</c>, <c>herald:stream:1</c>, ...). Must not contain the
    /// pattern characters <c>*?[]\</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = "herald";

    /// <summary>
    /// How many streams the channels are spread over (default 1, at most 1,024). A channel always goes to the same
    /// stream (a hash of its name), so the order of one publisher on one channel is kept. On a Redis Cluster, several
    /// streams spread the load over the shards; each stream has its own reading connection.
    /// </summary>
    public int StreamCount { get; set; } = 1;

    /// <summary>
    /// The approximate length the stream is trimmed to on every <c>XADD</c> (<c>MAXLEN ~</c>; default 100,000). This
    /// is the retention that makes an outage lossless: a node that comes back before this many newer entries were added
    /// misses nothing. @socket.io/redis-streams-adapter keeps 10,000; Herald keeps ten times that because the bus also
    /// carries heartbeats and session updates, and 10,000 entries last only seconds under load (about 1 s at the
    /// cluster benchmark's rate) while 100,000 small entries cost Redis some tens of MiB.
    /// </summary>
    public long MaxLength { get; set; } = 100_000;

    /// <summary>The most entries one <c>XREAD</c> returns (default 1,000).</summary>
    public int ReadCount { get; set; } = 1_000;

    /// <summary>How long one <c>XREAD BLOCK</c> waits for new entries before it is sent again (default 2 s).</summary>
    public TimeSpan ReadBlock { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many publications are kept while Redis is unreachable, and added to the stream, in order, once it is back
    /// (default 10,000; 0 turns the buffer off). This process's own subscribers get them at once. A publication that does
    /// not fit is dropped: counted in <see cref="RedisStreamsMessageBusCounters.Dropped"/>, logged, and <c>PublishAsync</c> throws.
    /// </summary>
    public int OutageBufferSize { get; set; } = 10_000;

    /// <summary>The most bytes of payload the outage buffer holds (16 MiB).</summary>
    public long OutageBufferBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// When true, the bus stores the id it has read up to in Redis (hash <c>herald:stream:offsets</c>, field = node
    /// name), and a bus started again with the same node name continues from there once its first subscription is
    /// made: what was published while the process was down is delivered. Off by default: a restarted Socket.IO node
    /// would hand minutes-old broadcasts to sockets that connected after them. Turn it on for processes whose
    /// subscribers consume every message (workers on the message channel), with a stable <c>Herald:NodeName</c>.
    /// </summary>
    public bool ResumeAfterRestart { get; set; }

    /// <summary>
    /// How often the bus checks its connections besides reacting to StackExchange.Redis's events (250 ms): the upper
    /// bound on how late <see cref="Herald.Messaging.IMessageBus.State"/> (and so <c>/readyz</c>) follows them.
    /// </summary>
    public TimeSpan StateCheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// While Redis cannot be reached (at start or during an outage) the bus logs one Warning line (event 2012, no stack
    /// trace) at once and then every this often (5 s).
    /// </summary>
    public TimeSpan UnreachableWarningInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Counters of a <see cref="RedisStreamsMessageBus"/> (monotonic, thread-safe).</summary>
public sealed class RedisStreamsMessageBusCounters
{
    internal long _published;
    internal long _buffered;
    internal long _replayed;
    internal long _retried;
    internal long _dropped;
    internal long _missed;
    internal long _duplicates;
    internal long _gaps;

    /// <summary>Publications Redis added to the stream (replayed and retried ones included).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Publications kept in the outage buffer.</summary>
    public long Buffered => Interlocked.Read(ref _buffered);

    /// <summary>Buffered publications added to the stream after the reconnection.</summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>
    /// Publications whose <c>XADD</c> was written but whose connection broke before Redis answered: sent again once
    /// Redis is back (the readers drop the copy if both were added).
    /// </summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Publications dropped because the outage buffer was full (or off) while Redis was unreachable.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Entries this node never read because the stream was trimmed (<see cref="RedisStreamsMessageBusOptions.MaxLength"/>)
    /// past them before it got there: counted from the gap in the sequence numbers of each publisher.
    /// </summary>
    public long Missed => Interlocked.Read(ref _missed);

    /// <summary>
    /// Times a reader, coming back (reconnection, resumed restart), found that entries after its position had been trimmed
    /// away: logged; the entries of publishers it knows are counted in <see cref="Missed"/>.
    /// </summary>
    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Entries read twice from the stream (a retried <c>XADD</c> that had been added already), not delivered again.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);
}
