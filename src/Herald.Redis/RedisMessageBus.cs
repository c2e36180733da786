using System.Threading.Channels;
using Herald.Messaging;
using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using SE = StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// An <see cref="IMessageBus"/> over Redis pub/sub, on StackExchange.Redis: <see cref="PublishAsync"/> is one
/// <c>PUBLISH</c> (or <c>SPUBLISH</c>, see <see cref="RedisMessageBusOptions.PubSubMode"/>) on the shared multiplexer;
/// a subscription is one <c>SUBSCRIBE</c>/<c>SSUBSCRIBE</c>/<c>PSUBSCRIBE</c> per distinct channel or pattern however
/// many local handlers share it, so a publication crosses Redis once per process and is handed to all local handlers
/// from the same bytes.
/// </summary>
/// <remarks>
/// <para>StackExchange.Redis reconnects (several endpoints, TLS, ACL, Sentinel and Cluster are its business) and
/// restores the subscriptions; the bus reports <see cref="MessageBusState.Connected"/> again only once a ping on the
/// subscriber connection, queued behind those subscriptions, has come back.</para>
/// <para>While Redis is unreachable, or not reached yet, <see cref="SubscribeAsync"/> completes at once: the
/// subscription is made as part of the connection, before <see cref="State"/> reports <see cref="MessageBusState.Connected"/>.
/// So an application starts with Redis down.</para>
/// <para>The messages of one channel (or pattern) are handed to its handlers one at a time in the order Redis delivers
/// them; different channels are handled concurrently.</para>
/// </remarks>
public sealed partial class RedisMessageBus : IBufferingMessageBus, ISubscriptionOwner
{
    private readonly SubscriptionRegistry _registry = new();
    private readonly Lock _subscribeLock = new();
    private readonly Lock _stateLock = new();
    private readonly Dictionary<(string Name, bool IsPattern), ChannelEntry> _entries = [];
    private readonly IHeraldRedisConnection _connection;
    private readonly HeraldRedisConnection? _ownedConnection;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly Task _monitor;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MessageBusState _state = MessageBusState.Connecting;
    private Exception? _lastError;
    private bool _wasConnected;
    private IConnectionMultiplexer? _multiplexer;
    private ISubscriber? _subscriber;
    private int _mode; // 0 not decided yet, 1 classic, 2 sharded
    private const int MaxTrackedChannels = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _receivers = new(StringComparer.Ordinal);
    private int _receiverChannels;
    private readonly IDisposable _metrics;
    private readonly RedisUnreachableWarning _unreachable;

    /// <summary>Creates the bus on its own connection (<see cref="RedisMessageBusOptions.Connection"/>) and starts connecting in the background.</summary>
    /// <param name="node">This process.</param>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or null.</param>
    public RedisMessageBus(HeraldNode node, IOptions<RedisMessageBusOptions> options, ILoggerFactory? loggerFactory = null)
        : this(node, null, options, loggerFactory)
    {
    }

    /// <summary>Creates the bus on a shared connection and starts connecting in the background.</summary>
    /// <param name="node">This process.</param>
    /// <param name="connection">The connection shared with the other Redis services; null to make one from <see cref="RedisMessageBusOptions.Connection"/>.</param>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or null.</param>
    public RedisMessageBus(HeraldNode node, IHeraldRedisConnection? connection, IOptions<RedisMessageBusOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (GlobPattern.HasSpecialCharacters(o.ChannelPrefix))
        {
            throw new ArgumentException($"ChannelPrefix '{o.ChannelPrefix}' must not contain the pattern characters *?[]\\.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.StateCheckInterval, TimeSpan.Zero, nameof(o.StateCheckInterval));
        NodeName = node.Name;
        _prefix = o.ChannelPrefix.Length == 0 ? string.Empty : o.ChannelPrefix + ":";
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<RedisMessageBus>();
        _outageOptions = o;
        if (connection is null)
        {
            _ownedConnection = new HeraldRedisConnection(o.Connection, loggerFactory);
            connection = _ownedConnection;
        }

        _connection = connection;
        RedisLog.BusStarted(_logger, NodeName, o.ChannelPrefix, connection.Options.ToString());
        _metrics = RedisMetrics.Track(NodeName, Counters);
        _unreachable = new RedisUnreachableWarning(_logger, connection.Options.TimeProvider, connection.Options.ToString(), o.UnreachableWarningInterval);
        _monitor = Task.Run(MonitorAsync);
    }

    /// <inheritdoc />
    public string NodeName { get; }

    /// <summary>True when the bus uses sharded pub/sub (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>); null until it first connected.</summary>
    public bool? IsSharded => Volatile.Read(ref _mode) switch { 1 => false, 2 => true, _ => null };

    /// <inheritdoc />
    public MessageBusState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc />
    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    private TimeProvider Time => _connection.Options.TimeProvider;

    private async Task<bool> WaitFirstConnectionAsync(CancellationToken cancellationToken)
    {
        Task ready;
        lock (_stateLock)
        {
            if (_wasConnected)
            {
                return true;
            }

            ready = _ready.Task;
        }

        try
        {
            await ready.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(1, _connection.Options.Configuration.ConnectTimeout)), Time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private bool WasConnected
    {
        get
        {
            lock (_stateLock)
            {
                return _wasConnected;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (TryQueue(channel, payload) is { } queued)
        {
            await queued.ConfigureAwait(false);
            return;
        }

        try
        {
            await PublishCoreAsync(channel, payload, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSentException e)
        {
            Signal();
            if (!WasConnected)
            {
                // Never connected yet: not an outage, nothing to buffer for. Wait for the first connection (as long as
                // a connection attempt may take), then send; else refuse, counted in Failed.
                if (await WaitFirstConnectionAsync(cancellationToken).ConfigureAwait(false))
                {
                    await PublishAsync(channel, payload, cancellationToken).ConfigureAwait(false);
                    return;
                }

                Interlocked.Increment(ref Counters._failed);
                throw new RedisConnectionException($"Redis at {_connection.Options} has not been reached yet: publication to '{channel}' not sent.", e.InnerException!);
            }

            // Redis went away before the bus noticed: the publication was never written, so it may be buffered
            // without any risk of a duplicate.
            if (TryQueue(channel, payload, outage: true) is { } buffered)
            {
                await buffered.ConfigureAwait(false);
                return;
            }

            Interlocked.Increment(ref Counters._failed);
            throw new RedisConnectionException($"Redis is unreachable: publication to '{channel}' not sent.", e.InnerException!);
        }
    }

    /// <summary>Publishes now; returns how many subscribers Redis reached.</summary>
    private async ValueTask<long> PublishCoreAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var subscriber = Volatile.Read(ref _subscriber);
        if (subscriber is null || IsSharded is not { } sharded)
        {
            throw new NotSentException(new RedisConnectionException($"Redis at {_connection.Options} has not been reached yet."));
        }

        var start = MessagingMetrics.StartPublish(payload.Length);
        var name = _prefix + channel;
        long receivers;
        try
        {
            receivers = await subscriber.PublishAsync(sharded ? RedisChannel.Sharded(name) : RedisChannel.Literal(name), payload, CommandFlags.DemandMaster).ConfigureAwait(false);
            Interlocked.Increment(ref Counters._published);
            RecordReceivers(channel, receivers);
        }
        catch (SE.RedisConnectionException e) when (e.FailureType is ConnectionFailureType.UnableToResolvePhysicalConnection)
        {
            throw new NotSentException(e);
        }
        catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException or ObjectDisposedException)
        {
            Interlocked.Increment(ref Counters._failed);
            Signal();
            throw new RedisConnectionException($"Publication to '{channel}' failed: {e.Message}", e);
        }
        catch (SE.RedisServerException e)
        {
            throw new RedisServerException(e.Message, e);
        }

        MessagingMetrics.EndPublish(start);
        return receivers;
    }

    /// <summary>Remembers the channel's subscriber count (for the replay after an outage); a bounded number of channels.</summary>
    private void RecordReceivers(string channel, long receivers)
    {
        if (_receivers.TryGetValue(channel, out var last))
        {
            if (last != receivers)
            {
                _receivers[channel] = receivers;
            }
        }
        else if (Volatile.Read(ref _receiverChannels) < MaxTrackedChannels && _receivers.TryAdd(channel, receivers))
        {
            Interlocked.Increment(ref _receiverChannels);
        }
    }

    /// <summary>
    /// Hands a publication buffered during an outage to this process's own subscribers now, and notes on each Redis
    /// subscription it went to that its echo (when the replay sends it) is to be skipped.
    /// </summary>
    private ValueTask DeliverLocallyAsync(string channel, ReadOnlyMemory<byte> payload)
    {
        ChannelEntry? exact = null;
        List<ChannelEntry>? patterns = null;
        lock (_subscribeLock)
        {
            if (_entries.TryGetValue((channel, false), out exact))
            {
                exact.ExpectEcho(payload);
            }

            if (_registry.Patterns.Length > 0)
            {
                foreach (var ((name, isPattern), entry) in _entries)
                {
                    if (isPattern && GlobPattern.IsMatch(name, channel))
                    {
                        entry.ExpectEcho(payload);
                        (patterns ??= []).Add(entry);
                    }
                }
            }
        }

        if (patterns is null)
        {
            return exact is not null && _registry.TryGetChannel(channel, out var only)
                ? MessageDispatcher.DispatchAsync(only.Subscriptions, new BusMessage(only.Name, null, payload), _logger)
                : ValueTask.CompletedTask;
        }

        return DeliverLocallySlowAsync(channel, payload, exact, patterns);
    }

    private async ValueTask DeliverLocallySlowAsync(string channel, ReadOnlyMemory<byte> payload, ChannelEntry? exact, List<ChannelEntry> patterns)
    {
        if (exact is not null && _registry.TryGetChannel(channel, out var only))
        {
            await MessageDispatcher.DispatchAsync(only.Subscriptions, new BusMessage(only.Name, null, payload), _logger).ConfigureAwait(false);
        }

        foreach (var entry in patterns)
        {
            if (_registry.TryGetPattern(entry.Name, out var pattern))
            {
                await MessageDispatcher.DispatchAsync(pattern.Subscriptions, new BusMessage(channel, pattern.Name, payload), _logger).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(channel, isPattern: false, handler, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The bus uses sharded pub/sub, which has no pattern subscription.</exception>
    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(pattern, isPattern: true, handler, cancellationToken);

    private async ValueTask<IAsyncDisposable> SubscribeCoreAsync(string name, bool isPattern, BusMessageHandler handler, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (isPattern && (_outageOptions.PubSubMode == RedisPubSubMode.Sharded || IsSharded == true))
        {
            throw new NotSupportedException($"The Redis bus uses sharded pub/sub, which has no pattern subscription: '{name}' cannot be subscribed. Set RedisMessageBusOptions.PubSubMode to Classic for wildcard topics.");
        }

        var subscription = new Subscription(this, name, isPattern, handler);
        ChannelEntry entry;
        lock (_subscribeLock)
        {
            if (_registry.Add(subscription))
            {
                entry = new ChannelEntry(name, isPattern);
                _entries[(name, isPattern)] = entry;
            }
            else
            {
                entry = _entries[(name, isPattern)];
            }
        }

        if (State != MessageBusState.Connected)
        {
            // Made by the monitor before it reports Connected.
            Signal();
            return subscription;
        }

        try
        {
            await EnsureSubscribedAsync(entry).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException)
        {
            // Lost meanwhile: the reconnection subscribes it before Connected is reported again.
            Signal();
        }

        return subscription;
    }

    /// <summary>Subscribes the entry on Redis unless it is already (or being) subscribed; one attempt.</summary>
    private Task EnsureSubscribedAsync(ChannelEntry entry)
    {
        lock (_subscribeLock)
        {
            if (entry.Removed)
            {
                return Task.CompletedTask;
            }

            if (entry.Subscribing is { } running && (!running.IsCompleted || running.IsCompletedSuccessfully))
            {
                return running;
            }

            return entry.Subscribing = SubscribeEntryAsync(entry);
        }
    }

    private async Task SubscribeEntryAsync(ChannelEntry entry)
    {
        var subscriber = Volatile.Read(ref _subscriber) ?? throw new SE.RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis has not been reached yet.");
        var channel = ToRedisChannel(entry);
        Task<ChannelMessageQueue> subscribing;
        lock (_subscribeLock)
        {
            // StackExchange.Redis registers the queue before it sends SUBSCRIBE: under the lock, so SUBSCRIBE and
            // UNSUBSCRIBE of one name reach Redis in the order the registry saw them.
            subscribing = subscriber.SubscribeAsync(channel);
        }

        ChannelMessageQueue queue;
        try
        {
            queue = await subscribing.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException)
        {
            // The queue StackExchange.Redis registered is lost with the exception: remove it, the next attempt makes another.
            RedisLog.SubscribeFailed(_logger, channel.ToString(), e);
            lock (_subscribeLock)
            {
                _ = subscriber.UnsubscribeAsync(channel, null, CommandFlags.FireAndForget).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }

            throw;
        }

        lock (_subscribeLock)
        {
            if (entry.Removed)
            {
                _ = queue.UnsubscribeAsync(CommandFlags.FireAndForget);
                return;
            }

            entry.Queue = queue;
        }

        _ = ConsumeAsync(entry, queue);
    }

    private RedisChannel ToRedisChannel(ChannelEntry entry)
    {
        var name = _prefix + entry.Name;
        return entry.IsPattern ? RedisChannel.Pattern(name) : IsSharded == true ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
    }

    /// <summary>Hands the messages of one Redis subscription to its handlers, one at a time, in order.</summary>
    private async Task ConsumeAsync(ChannelEntry entry, ChannelMessageQueue queue)
    {
        try
        {
            while (true)
            {
                var message = await queue.ReadAsync().ConfigureAwait(false);
                await DispatchAsync(entry, message).ConfigureAwait(false);
                while (queue.TryRead(out message))
                {
                    await DispatchAsync(entry, message).ConfigureAwait(false);
                }
            }
        }
        catch (ChannelClosedException)
        {
            // unsubscribed
        }
        catch (OperationCanceledException)
        {
        }
    }

    private ValueTask DispatchAsync(ChannelEntry entry, ChannelMessage message)
    {
        ReadOnlyMemory<byte> payload = message.Message;
        if (entry.TakeEcho(payload.Span))
        {
            return ValueTask.CompletedTask; // delivered locally during the outage already
        }

        Subscription[] subscriptions;
        string channelName;
        string? patternName = null;
        if (entry.IsPattern)
        {
            if (!_registry.TryGetPattern(entry.Name, out var pattern))
            {
                return ValueTask.CompletedTask; // unsubscribed meanwhile
            }

            subscriptions = pattern.Subscriptions;
            patternName = pattern.Name;
            var full = message.Channel.ToString();
            channelName = full.StartsWith(_prefix, StringComparison.Ordinal) ? full[_prefix.Length..] : full;
        }
        else
        {
            if (!_registry.TryGetChannel(entry.Name, out var exact))
            {
                return ValueTask.CompletedTask;
            }

            subscriptions = exact.Subscriptions;
            channelName = exact.Name;
        }

        return MessageDispatcher.DispatchAsync(subscriptions, new BusMessage(channelName, patternName, payload), _logger);
    }

    async ValueTask ISubscriptionOwner.RemoveAsync(Subscription subscription)
    {
        Task? unsubscribing = null;
        lock (_subscribeLock)
        {
            if (_registry.Remove(subscription) && _entries.Remove((subscription.Name, subscription.IsPattern), out var entry))
            {
                entry.Removed = true;
                if (entry.Queue is { } queue)
                {
                    entry.Queue = null;
                    unsubscribing = queue.UnsubscribeAsync();
                }
            }
        }

        if (unsubscribing is not null)
        {
            try
            {
                await unsubscribing.ConfigureAwait(false);
            }
            catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException or ObjectDisposedException)
            {
                // Redis is gone: the subscription went with the connection, and StackExchange.Redis no longer restores it.
            }
        }
    }

    private void Signal() => _signal.Writer.TryWrite(true);

    /// <summary>
    /// Follows the connection: reacts to StackExchange.Redis's connection events (and checks every
    /// <see cref="RedisMessageBusOptions.StateCheckInterval"/>), makes the subscriptions that are not in place, and
    /// reports <see cref="MessageBusState.Connected"/> only once they are and a ping on the subscriber came back.
    /// </summary>
    private async Task MonitorAsync()
    {
        IConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await _connection.GetMultiplexerAsync(_shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return;
        }

        void OnFailed(object? sender, ConnectionFailedEventArgs e)
        {
            _lastError = e.Exception;
            Signal();
        }

        void OnChanged(object? sender, EventArgs e) => Signal();

        multiplexer.ConnectionFailed += OnFailed;
        multiplexer.ConnectionRestored += OnFailed;
        multiplexer.ConfigurationChanged += OnChanged;
        Volatile.Write(ref _multiplexer, multiplexer);
        Volatile.Write(ref _subscriber, multiplexer.GetSubscriber());
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                await CheckAsync(multiplexer).ConfigureAwait(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
                wait.CancelAfter(_outageOptions.StateCheckInterval);
                try
                {
                    await _signal.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // the periodic check
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            multiplexer.ConnectionFailed -= OnFailed;
            multiplexer.ConnectionRestored -= OnFailed;
            multiplexer.ConfigurationChanged -= OnChanged;
        }
    }

    private async Task CheckAsync(IConnectionMultiplexer multiplexer)
    {
        var subscriber = _subscriber!;
        if (!IsReachable(multiplexer, subscriber))
        {
            SetState(_wasConnected ? MessageBusState.Disconnected : MessageBusState.Connecting, _lastError);
            _unreachable.Unreachable(_lastError, Fate());
            return;
        }

        _unreachable.Reachable();

        if (IsSharded is null)
        {
            DecideMode(multiplexer);
        }

        ChannelEntry[] entries;
        lock (_subscribeLock)
        {
            entries = [.. _entries.Values];
        }

        try
        {
            var pending = new List<Task>();
            foreach (var entry in entries)
            {
                if (entry.Queue is null)
                {
                    pending.Add(EnsureSubscribedAsync(entry));
                }
            }

            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMilliseconds(multiplexer.TimeoutMilliseconds), Time, _shutdown.Token).ConfigureAwait(false);

            // Queued behind the SUBSCRIBEs StackExchange.Redis resends on a new subscriber connection: when it comes
            // back, they are in place. And a ping to the primary: publications demand it, and right after a
            // reconnection its role may not be known yet.
            await subscriber.PingAsync().WaitAsync(TimeSpan.FromMilliseconds(multiplexer.TimeoutMilliseconds), Time, _shutdown.Token).ConfigureAwait(false);
            await multiplexer.GetDatabase().PingAsync(CommandFlags.DemandMaster).WaitAsync(TimeSpan.FromMilliseconds(multiplexer.TimeoutMilliseconds), Time, _shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException or TimeoutException)
        {
            _lastError = e;
            SetState(_wasConnected ? MessageBusState.Disconnected : MessageBusState.Connecting, e);
            _unreachable.Unreachable(_lastError, Fate());
            return;
        }

        if (IsReachable(multiplexer, subscriber) && State != MessageBusState.Connected)
        {
            if (_wasConnected)
            {
                RedisLog.Resubscribed(_logger, entries.Count(e => !e.IsPattern), entries.Count(e => e.IsPattern));
            }

            SetState(MessageBusState.Connected, null);
        }

        if (State == MessageBusState.Connected)
        {
            DrainIfBuffered();
        }
    }

    /// <summary>What happens to publications while Redis is unreachable (the Warning says it).</summary>
    private string Fate() => !_wasConnected ? "refused once a connection attempt has failed (counted in Failed)"
        : BuffersWhileDisconnected ? $"kept in the outage buffer (up to {_outageOptions.OutageBufferSize}; beyond it dropped and counted in Dropped)"
        : "dropped (counted in Dropped)";

    /// <summary>A primary is connected for commands, and the subscriber connection is up.</summary>
    private static bool IsReachable(IConnectionMultiplexer multiplexer, ISubscriber subscriber)
    {
        if (!multiplexer.IsConnected || !subscriber.IsConnected())
        {
            return false;
        }

        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsConnected && !server.IsReplica)
            {
                return true;
            }
        }

        return false;
    }

    private void DecideMode(IConnectionMultiplexer multiplexer)
    {
        var cluster = false;
        var version = new Version(0, 0);
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsConnected)
            {
                cluster |= server.ServerType == ServerType.Cluster;
                version = server.Version > version ? server.Version : version;
            }
        }

        bool sharded;
        string reason;
        switch (_outageOptions.PubSubMode)
        {
            case RedisPubSubMode.Sharded:
                (sharded, reason) = (true, "configured");
                break;
            case RedisPubSubMode.Classic:
                (sharded, reason) = (false, "configured");
                break;
            default:
                sharded = cluster && version.Major >= 7;
                reason = cluster ? $"Redis Cluster, version {version}" : "not a Redis Cluster";
                break;
        }

        if (sharded)
        {
            lock (_subscribeLock)
            {
                if (_entries.Keys.FirstOrDefault(k => k.IsPattern) is { Name: { } pattern })
                {
                    RedisLog.PubSubMode(_logger, "classic", $"a pattern subscription ('{pattern}') exists, which sharded pub/sub cannot carry");
                    sharded = false;
                }
            }
        }

        Volatile.Write(ref _mode, sharded ? 2 : 1);
        RedisLog.PubSubMode(_logger, sharded ? "sharded" : "classic", reason);
    }

    private void SetState(MessageBusState current, Exception? error)
    {
        MessageBusState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == MessageBusState.Disposed || previous == current)
            {
                return;
            }

            _state = current;
            if (current == MessageBusState.Connected)
            {
                _wasConnected = true;
                _ready.TrySetResult();
            }
            else if (_ready.Task.IsCompleted)
            {
                _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        RedisLog.BusStateChanged(_logger, previous, current);
        OnOutageStateChanged(current);
        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, current, error));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        MessageBusState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == MessageBusState.Disposed)
            {
                return;
            }

            _state = MessageBusState.Disposed;
        }

        lock (_bufferLock)
        {
            FailWaitersLocked("the bus was disposed");
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _monitor.ConfigureAwait(false);
        _metrics.Dispose();
        ChannelMessageQueue[] queues;
        lock (_subscribeLock)
        {
            queues = [.. _entries.Values.Select(e => e.Queue).OfType<ChannelMessageQueue>()];
            foreach (var entry in _entries.Values)
            {
                entry.Removed = true;
                entry.Queue = null;
            }

            _entries.Clear();
        }

        if (_ownedConnection is not null)
        {
            await _ownedConnection.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            // A shared connection lives on: take this bus's subscriptions off it.
            foreach (var queue in queues)
            {
                try
                {
                    await queue.UnsubscribeAsync(CommandFlags.FireAndForget).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SE.RedisConnectionException or SE.RedisTimeoutException or ObjectDisposedException)
                {
                }
            }
        }

        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, MessageBusState.Disposed, null));
    }

    /// <summary>One Redis channel or pattern this bus subscribes to, for all its local handlers. Guarded by <see cref="_subscribeLock"/>.</summary>
    private sealed class ChannelEntry(string name, bool isPattern)
    {
        public string Name { get; } = name;

        public bool IsPattern { get; } = isPattern;

        public Task? Subscribing { get; set; }

        public ChannelMessageQueue? Queue { get; set; }

        public bool Removed { get; set; }

        private readonly Queue<ReadOnlyMemory<byte>> _echoes = new();
        private int _echoCount;

        /// <summary>A publication of this process was delivered locally during an outage: skip it when Redis echoes it back.</summary>
        public void ExpectEcho(ReadOnlyMemory<byte> payload)
        {
            lock (_echoes)
            {
                _echoes.Enqueue(payload);
                Volatile.Write(ref _echoCount, _echoes.Count);
            }
        }

        /// <summary>
        /// True when <paramref name="payload"/> is an expected echo (and forgets it). The replay sends in order, so an
        /// echo matching a later expectation means the earlier ones were never sent (dropped): they are forgotten too.
        /// </summary>
        public bool TakeEcho(ReadOnlySpan<byte> payload)
        {
            if (Volatile.Read(ref _echoCount) == 0)
            {
                return false;
            }

            lock (_echoes)
            {
                var index = 0;
                foreach (var expected in _echoes)
                {
                    if (expected.Span.SequenceEqual(payload))
                    {
                        for (var i = 0; i <= index; i++)
                        {
                            _echoes.Dequeue();
                        }

                        Volatile.Write(ref _echoCount, _echoes.Count);
                        return true;
                    }

                    index++;
                }
            }

            return false;
        }
    }

    /// <summary>StackExchange.Redis had no connection to write the publication to: it was never sent.</summary>
    private sealed class NotSentException(Exception inner) : Exception(inner.Message, inner);
}
