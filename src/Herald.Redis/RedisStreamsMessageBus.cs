using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using SE = StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// An <see cref="IMessageBus"/> over Redis Streams, on StackExchange.Redis: <see cref="PublishAsync"/> is one
/// <c>XADD</c> (trimmed to about <see cref="RedisStreamsMessageBusOptions.MaxLength"/> entries) to the stream of the
/// channel, and every process reads every stream from its own last id with <c>XREAD BLOCK</c> on a connection of its
/// own, handing each entry to its local subscribers (exact and pattern). An entry is <c>c</c> (the channel, without
/// prefix), <c>p</c> (the payload), <c>o</c> (the publishing bus instance) and <c>s</c> (its sequence number).
/// </summary>
/// <remarks>
/// <para>Lossless within the retention: a Redis outage, or a lost reading connection, ends with the node reading on from
/// its last id, so it misses nothing that is still in the stream. What was trimmed before it got there is counted in
/// <see cref="RedisStreamsMessageBusCounters.Missed"/> (the gap in each publisher's sequence numbers) and logged.
/// A Redis that is itself killed keeps its stream only with persistence (<c>appendonly yes</c>).</para>
/// <para>Every node, the publishing one included, delivers the entries in stream order, so all nodes see one order.
/// While Redis is unreachable, publications are buffered (bounded, counted when dropped) and this process's own
/// subscribers get them at once, in order after what it published before; they are added to the stream once Redis
/// is back, and the node skips them when it reads them. An <c>XADD</c> whose answer was lost with the connection is sent
/// again, and the readers drop the second copy (sequence numbers), so no node delivers an entry twice.</para>
/// </remarks>
public sealed partial class RedisStreamsMessageBus : IBufferingMessageBus, ISubscriptionOwner
{
    private readonly SubscriptionRegistry _registry = new();
    private readonly Lock _gate = new();
    private readonly Lock _stateLock = new();
    private readonly IHeraldRedisConnection _connection;
    private readonly HeraldRedisConnection? _ownedConnection;
    private readonly RedisStreamsMessageBusOptions _options;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SignalSource _monitorSignal = new();
    private readonly StreamState[] _streams;
    private readonly string _prefix;
    private readonly string _origin;
    private readonly RedisKey _offsetsKey;
    private readonly ILogger _logger;
    private readonly Task _monitor;
    private readonly Task[] _readers;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MessageBusState _state = MessageBusState.Connecting;
    private bool _wasConnected;
    private Exception? _lastError;
    private IConnectionMultiplexer? _multiplexer;

    // Guarded by _gate.
    private bool _outage;
    private bool _draining;
    private int _queued;
    private long _queuedBytes;

    /// <summary>Creates the bus on its own connection (<see cref="RedisStreamsMessageBusOptions.Connection"/>) and starts connecting in the background.</summary>
    /// <param name="node">This process.</param>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or null.</param>
    public RedisStreamsMessageBus(HeraldNode node, IOptions<RedisStreamsMessageBusOptions> options, ILoggerFactory? loggerFactory = null)
        : this(node, null, options, loggerFactory)
    {
    }

    /// <summary>Creates the bus on a shared connection (for publishing) and starts connecting in the background.</summary>
    /// <param name="node">This process.</param>
    /// <param name="connection">The connection shared with the other Redis services; null to make one from <see cref="RedisStreamsMessageBusOptions.Connection"/>.</param>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or null.</param>
    public RedisStreamsMessageBus(HeraldNode node, IHeraldRedisConnection? connection, IOptions<RedisStreamsMessageBusOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (GlobPattern.HasSpecialCharacters(o.ChannelPrefix))
        {
            throw new ArgumentException($"ChannelPrefix '{o.ChannelPrefix}' must not contain the pattern characters *?[]\\.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(o.StreamCount, 1, nameof(o.StreamCount));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(o.StreamCount, 1024, nameof(o.StreamCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxLength, 1, nameof(o.MaxLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ReadCount, 1, nameof(o.ReadCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ReadBlock, TimeSpan.FromMilliseconds(1), nameof(o.ReadBlock));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.StateCheckInterval, TimeSpan.Zero, nameof(o.StateCheckInterval));
        ArgumentOutOfRangeException.ThrowIfNegative(o.OutageBufferSize, nameof(o.OutageBufferSize));
        _options = o;
        NodeName = node.Name;
        _prefix = o.ChannelPrefix.Length == 0 ? string.Empty : o.ChannelPrefix + ":";
        _origin = node.Name + "/" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.NextInt64())).ToLowerInvariant();
        _offsetsKey = _prefix + "stream:offsets";
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<RedisStreamsMessageBus>();
        if (connection is null)
        {
            _ownedConnection = new HeraldRedisConnection(o.Connection, loggerFactory);
            connection = _ownedConnection;
        }

        _connection = connection;
        _streams = new StreamState[o.StreamCount];
        for (var i = 0; i < _streams.Length; i++)
        {
            var key = o.StreamCount == 1 ? _prefix + "stream" : _prefix + "stream:" + i.ToString(CultureInfo.InvariantCulture);
            _streams[i] = new StreamState(i, key, NodeName + ":" + i.ToString(CultureInfo.InvariantCulture));
        }

        RedisLog.StreamsBusStarted(_logger, NodeName, string.Join(", ", _streams.Select(s => s.KeyName)), connection.Options.ToString());
        _metrics = RedisMetrics.Track(NodeName, name => name switch
        {
            "published" => Counters.Published,
            "buffered" => Counters.Buffered,
            "replayed" => Counters.Replayed,
            "dropped" => Counters.Dropped,
            "missed" => Counters.Missed,
            _ => null,
        });
        _unreachable = new RedisUnreachableWarning(_logger, connection.Options.TimeProvider, connection.Options.ToString(), o.UnreachableWarningInterval);
        _monitor = Task.Run(MonitorAsync);
        _readers = [.. _streams.Select(s => Task.Run(() => ReadLoopAsync(s)))];
    }

    private readonly IDisposable _metrics;
    private readonly RedisUnreachableWarning _unreachable;

    /// <inheritdoc />
    public string NodeName { get; }

    /// <summary>The Redis keys of the streams (<c>herald:stream</c>), in stream order.</summary>
    public IReadOnlyList<string> StreamKeys => [.. _streams.Select(s => s.KeyName)];

    /// <summary>Publication and reading counters.</summary>
    public RedisStreamsMessageBusCounters Counters { get; } = new();

    /// <inheritdoc />
    public bool BuffersWhileDisconnected => _options.OutageBufferSize > 0;

    /// <summary>How many publications wait to be added to the stream (outage buffer and retries).</summary>
    public int BufferedCount
    {
        get
        {
            lock (_gate)
            {
                return _queued;
            }
        }
    }

    /// <summary>The id each stream has been read up to by this process (for tests and diagnostics).</summary>
    public IReadOnlyList<string> LastIds => [.. _streams.Select(s => s.LastId ?? string.Empty)];

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

    /// <summary>The index of the stream that carries <paramref name="channel"/>.</summary>
    private int StreamIndexOf(string channel)
    {
        if (_streams.Length == 1)
        {
            return 0;
        }

        var max = Encoding.UTF8.GetMaxByteCount(channel.Length);
        byte[]? rented = null;
        var bytes = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        var length = Encoding.UTF8.GetBytes(channel, bytes);
        var hash = XxHash32.HashToUInt32(bytes[..length]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return (int)(hash % (uint)_streams.Length);
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (State == MessageBusState.Disposed)
        {
            throw new ObjectDisposedException(nameof(RedisStreamsMessageBus));
        }

        if (!WasConnected && !await WaitFirstConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref Counters._dropped);
            throw new RedisConnectionException($"Redis at {_connection.Options} has not been reached yet: publication to '{channel}' not sent.", _lastError ?? new TimeoutException());
        }

        var stream = _streams[StreamIndexOf(channel)];
        var database = Volatile.Read(ref _multiplexer)!.GetDatabase();
        Own own;
        Task<RedisValue> adding;
        var start = MessagingMetrics.StartPublish(payload.Length);
        lock (_gate)
        {
            if (_outage || _draining || State != MessageBusState.Connected || EarlierAddFailedLocked(stream))
            {
                if (!_outage && !_draining)
                {
                    EnterOutageLocked();
                }

                QueueLocked(stream, channel, payload);
                return;
            }

            own = stream.Append(channel, payload);
            own.InFlight = true;

            // Issued under the lock: the order on the wire is the order of the sequence numbers.
            try
            {
                adding = Add(database, stream, own);
            }
            catch (Exception e) when (IsConnectionFailure(e))
            {
                adding = Task.FromException<RedisValue>(e);
            }

            own.Adding = adding;
        }

        try
        {
            await adding.ConfigureAwait(false);
            Interlocked.Increment(ref Counters._published);
            lock (_gate)
            {
                own.InFlight = false;
                own.Added = true;
                own.ReleaseIfDone();
            }

            MessagingMetrics.EndPublish(start);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            // Written or not, Redis did not answer: sent again once it is back; the readers drop a second copy.
            _lastError = e;
            lock (_gate)
            {
                own.InFlight = false;
                if (!own.Added && !own.ReadBack)
                {
                    own.Queued = true;
                    _queued++;
                    _queuedBytes += own.Length;
                    Interlocked.Increment(ref Counters._retried);
                }

                EnterOutageLocked();
                own.ReleaseIfDone();
            }

            _monitorSignal.Set();
        }
        catch (SE.RedisServerException e)
        {
            lock (_gate)
            {
                own.InFlight = false;
                stream.Remove(own);
            }

            throw new RedisServerException(e.Message, e);
        }
    }

    /// <summary>
    /// The connection broke under a command: StackExchange.Redis reports it as its connection or timeout exceptions, but
    /// also, when the socket is reset in the middle of a write, as the pipe's own exceptions (an <see cref="IOException"/>,
    /// an <see cref="InvalidOperationException"/> "writing is not allowed"). Anything but an answer from the server.
    /// </summary>
    private static bool IsConnectionFailure(Exception e)
        => e is not (SE.RedisServerException or SE.RedisCommandException or ArgumentException or OperationCanceledException);

    private Task<RedisValue> Add(IDatabase database, StreamState stream, Own own)
        => database.StreamAddAsync(
            stream.Key,
            [
                new NameValueEntry("c", own.Channel),
                new NameValueEntry("o", _origin),
                new NameValueEntry("s", own.Seq),
                new NameValueEntry("p", own.Payload),
            ],
            messageId: null,
            maxLength: _options.MaxLength,
            useApproximateMaxLength: true,
            limit: null,
            trimMode: StreamTrimMode.KeepReferences,
            flags: CommandFlags.DemandMaster);

    /// <summary>Keeps a publication for later (outage, drain); throws when the buffer is full.</summary>
    private void QueueLocked(StreamState stream, string channel, ReadOnlyMemory<byte> payload)
    {
        if (_queued >= _options.OutageBufferSize || _queuedBytes + payload.Length > _options.OutageBufferBytes)
        {
            var dropped = Interlocked.Increment(ref Counters._dropped);
            RedisLog.OutageDropped(_logger, channel, dropped);
            throw _options.OutageBufferSize == 0
                ? new RedisConnectionException($"Redis is unreachable and the outage buffer is off: publication to '{channel}' dropped.")
                : new MessageBusException($"Redis is unreachable and the outage buffer is full: publication to '{channel}' dropped.");
        }

        var own = stream.Append(channel, payload);
        own.Queued = true;
        _queued++;
        _queuedBytes += payload.Length;
        Interlocked.Increment(ref Counters._buffered);

        // Local delivery never waits for Redis: the reader of this stream hands it to the local subscribers now.
        if (_outage)
        {
            stream.Local.Set();
        }
        else if (!_draining && State == MessageBusState.Connected)
        {
            StartDrainLocked();
        }
    }

    /// <summary>
    /// True when an <c>XADD</c> of this stream still in flight has already failed, before its continuation ran:
    /// StackExchange.Redis fails what was outstanding on a broken connection before it reconnects, so a publication
    /// sent now could reach Redis on the new connection ahead of that one's retry, and readers would take the retry
    /// for a second copy. It waits in the buffer instead, behind the retry.
    /// </summary>
    private static bool EarlierAddFailedLocked(StreamState stream)
    {
        var pending = stream.Pending;
        for (var i = 0; i < pending.Count; i++)
        {
            var own = pending[i];
            if (!own.InFlight || own.Adding is not { } adding)
            {
                continue;
            }

            if (!adding.IsCompleted)
            {
                return false; // answers come in order: nothing after it can have failed yet
            }

            if (!adding.IsCompletedSuccessfully)
            {
                return true;
            }
        }

        return false;
    }

    private void UnqueueLocked(Own own)
    {
        if (own.Queued)
        {
            own.Queued = false;
            _queued--;
            _queuedBytes -= own.Length;
        }
    }

    private void EnterOutageLocked()
    {
        if (_outage)
        {
            return;
        }

        // Also without a buffer: publications to retry go before any new one.
        _outage = true;
        RedisLog.OutageBuffering(_logger, _options.OutageBufferSize);
        foreach (var stream in _streams)
        {
            stream.Local.Set();
        }
    }

    private void StartDrainLocked()
    {
        _outage = false;
        if (_draining || _queued == 0)
        {
            return;
        }

        _draining = true;
        _ = Task.Run(DrainAsync);
    }

    /// <summary>Adds what was buffered to the streams, in order, in pipelined batches; live publications queue behind.</summary>
    private async Task DrainAsync()
    {
        var sent = 0;
        var batch = new List<(Own Own, Task<RedisValue> Adding)>(256);
        bool waiting;
        try
        {
            var database = Volatile.Read(ref _multiplexer)!.GetDatabase();
            while (true)
            {
                batch.Clear();
                lock (_gate)
                {
                    if (_outage || State != MessageBusState.Connected || _queued == 0)
                    {
                        _draining = false;
                        if (_queued > 0)
                        {
                            EnterOutageLocked(); // nothing overtakes what is still buffered
                        }

                        break;
                    }

                    waiting = false;
                    foreach (var stream in _streams)
                    {
                        foreach (var own in stream.Pending)
                        {
                            if (batch.Count == 256)
                            {
                                break;
                            }

                            if (own.InFlight)
                            {
                                // A live XADD not answered yet (or failed, its retry not queued yet): nothing after it
                                // goes before its outcome is known, or a retry could land behind a later publication.
                                waiting = true;
                                break;
                            }

                            if (own.Queued && !own.Added && !own.ReadBack)
                            {
                                own.InFlight = true;
                                Task<RedisValue> adding;
                                try
                                {
                                    adding = Add(database, stream, own);
                                }
                                catch (Exception e) when (IsConnectionFailure(e))
                                {
                                    adding = Task.FromException<RedisValue>(e);
                                }

                                batch.Add((own, adding));
                            }
                        }
                    }

                    if (batch.Count == 0 && !waiting)
                    {
                        _draining = false;
                        break;
                    }
                }

                if (batch.Count == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(5), Time, _shutdown.Token).ConfigureAwait(false);
                    continue;
                }

                var failed = false;
                foreach (var (own, adding) in batch)
                {
                    try
                    {
                        await adding.ConfigureAwait(false);
                        Interlocked.Increment(ref Counters._published);
                        Interlocked.Increment(ref Counters._replayed);
                        sent++;
                        lock (_gate)
                        {
                            own.InFlight = false;
                            own.Added = true;
                            UnqueueLocked(own);
                            own.ReleaseIfDone();
                        }
                    }
                    catch (Exception e) when (IsConnectionFailure(e))
                    {
                        _lastError = e;
                        failed = true;
                        lock (_gate)
                        {
                            own.InFlight = false;
                            if (own.ReadBack)
                            {
                                UnqueueLocked(own); // the first attempt was added after all
                            }

                            own.ReleaseIfDone();
                            EnterOutageLocked();
                        }
                    }
                    catch (SE.RedisServerException e)
                    {
                        // Not something a retry fixes (a wrong type at the key, out of memory): dropped and counted.
                        var dropped = Interlocked.Increment(ref Counters._dropped);
                        RedisLog.OutageDropped(_logger, own.Channel, dropped);
                        _ = e;
                        lock (_gate)
                        {
                            own.InFlight = false;
                            UnqueueLocked(own);
                            _streams[StreamIndexOf(own.Channel)].Remove(own);
                        }
                    }
                }

                if (failed)
                {
                    lock (_gate)
                    {
                        _draining = false;
                    }

                    _monitorSignal.Set();
                    break;
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            lock (_gate)
            {
                _draining = false;
            }
        }

        if (sent > 0)
        {
            RedisLog.OutageReplayed(_logger, sent);
        }
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCore(channel, isPattern: false, handler);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCore(pattern, isPattern: true, handler);

    private ValueTask<IAsyncDisposable> SubscribeCore(string name, bool isPattern, BusMessageHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);

        // Nothing to ask Redis: every entry is read anyway, and one published from now on comes after the reader's position.
        var subscription = new Subscription(this, name, isPattern, handler);
        _registry.Add(subscription);
        foreach (var stream in _streams)
        {
            stream.Subscribed.TrySetResult();
        }

        return ValueTask.FromResult<IAsyncDisposable>(subscription);
    }

    ValueTask ISubscriptionOwner.RemoveAsync(Subscription subscription)
    {
        _registry.Remove(subscription);
        return ValueTask.CompletedTask;
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

    /// <summary>
    /// Follows the connections: reports <see cref="MessageBusState.Connected"/> once the primary answers a ping and every
    /// stream's reader has its position; on the way back from an outage, starts adding the buffer to the streams.
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
            _monitorSignal.Set();
        }

        multiplexer.ConnectionFailed += OnFailed;
        multiplexer.ConnectionRestored += OnFailed;
        Volatile.Write(ref _multiplexer, multiplexer);
        foreach (var stream in _streams)
        {
            stream.Local.Set();
        }

        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                await CheckAsync(multiplexer).ConfigureAwait(false);
                await _monitorSignal.WaitAsync(_options.StateCheckInterval, Time, _shutdown.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            multiplexer.ConnectionFailed -= OnFailed;
            multiplexer.ConnectionRestored -= OnFailed;
        }
    }

    private async Task CheckAsync(IConnectionMultiplexer multiplexer)
    {
        var reachable = multiplexer.IsConnected;
        if (reachable)
        {
            try
            {
                await multiplexer.GetDatabase().PingAsync(CommandFlags.DemandMaster).WaitAsync(TimeSpan.FromMilliseconds(multiplexer.TimeoutMilliseconds), Time, _shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsConnectionFailure(e) || e is TimeoutException)
            {
                _lastError = e;
                reachable = false;
            }
        }

        foreach (var stream in _streams)
        {
            reachable &= stream.Reading;
        }

        if (!reachable)
        {
            var disconnected = WasConnected;
            SetState(disconnected ? MessageBusState.Disconnected : MessageBusState.Connecting, _lastError);
            _unreachable.Unreachable(_lastError, !disconnected ? "refused once a connection attempt has failed"
                : BuffersWhileDisconnected ? $"kept in the outage buffer (up to {_options.OutageBufferSize}; beyond it dropped and counted in Dropped)"
                : "dropped (counted in Dropped)");
            if (disconnected)
            {
                lock (_gate)
                {
                    EnterOutageLocked();
                }
            }

            return;
        }

        _unreachable.Reachable();
        SetState(MessageBusState.Connected, null);
        lock (_gate)
        {
            if (_outage || (_queued > 0 && !_draining))
            {
                StartDrainLocked();
            }
        }
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

        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _monitor.ConfigureAwait(false);
        await Task.WhenAll(_readers).ConfigureAwait(false);
        _metrics.Dispose();
        if (_options.ResumeAfterRestart)
        {
            await StoreOffsetsAsync().ConfigureAwait(false);
        }

        int lost;
        lock (_gate)
        {
            lost = _queued;
            _queued = 0;
        }

        if (lost > 0)
        {
            Interlocked.Add(ref Counters._dropped, lost);
            RedisLog.StreamsDisposedWithBuffer(_logger, lost);
        }

        foreach (var stream in _streams)
        {
            if (stream.Reader is { } reader)
            {
                await reader.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                await reader.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_ownedConnection is not null)
        {
            await _ownedConnection.DisposeAsync().ConfigureAwait(false);
        }

        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, MessageBusState.Disposed, null));
    }

    /// <summary>A publication of this process not read back from its stream yet (in flight, added, or buffered).</summary>
    private sealed class Own(long seq, string channel, byte[] buffer, int length)
    {
        private byte[]? _buffer = buffer;

        public long Seq { get; } = seq;

        public string Channel { get; } = channel;

        public int Length { get; } = length;

        public ReadOnlyMemory<byte> Payload => _buffer is { } b ? b.AsMemory(0, Length) : ReadOnlyMemory<byte>.Empty;

        /// <summary>An <c>XADD</c> of it is on its way.</summary>
        public bool InFlight { get; set; }

        /// <summary>Its last live <c>XADD</c> (not the drain's).</summary>
        public Task<RedisValue>? Adding { get; set; }

        /// <summary>Redis answered an <c>XADD</c> of it.</summary>
        public bool Added { get; set; }

        /// <summary>In the outage buffer (or to be sent again): counted in the buffer's bounds.</summary>
        public bool Queued { get; set; }

        /// <summary>Handed to this process's subscribers from the copy, during an outage.</summary>
        public bool Delivered { get; set; }

        /// <summary>Read back from the stream (so it was added): off <see cref="StreamState.Pending"/>.</summary>
        public bool ReadBack { get; set; }

        /// <summary>Returns the copy to the pool once no <c>XADD</c> and no reader needs it. Under the bus's gate.</summary>
        public void ReleaseIfDone()
        {
            if (ReadBack && !InFlight && _buffer is { } b)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(b);
            }
        }
    }

    /// <summary>One stream: its key, reading connection and position, and this process's publications on it.</summary>
    private sealed class StreamState(int index, string key, string offsetField)
    {
        public int Index { get; } = index;

        public string KeyName { get; } = key;

        public RedisKey Key { get; } = key;

        public RedisValue OffsetField { get; } = offsetField;

        /// <summary>This process's publications on the stream, in sequence order, until read back. Under the bus's gate.</summary>
        public List<Own> Pending { get; } = [];

        /// <summary>The last sequence number given out. Under the bus's gate.</summary>
        public long Seq { get; set; }

        /// <summary>The highest sequence number of this process delivered to its subscribers (reader only).</summary>
        public long OwnDelivered { get; set; }

        /// <summary>Set to make the reader look at <see cref="Pending"/> (outage) or at its connection.</summary>
        public SignalSource Local { get; } = new();

        /// <summary>Completed by the first subscription (a resumed reader waits for it before it reads).</summary>
        public TaskCompletionSource Subscribed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IConnectionMultiplexer? Reader { get; set; }

        /// <summary>The reader has its position and its last read did not fail.</summary>
        public bool Reading
        {
            get => Volatile.Read(ref _reading);
            set => Volatile.Write(ref _reading, value);
        }

        private bool _reading;

        /// <summary>The id read up to (reader only, published for diagnostics).</summary>
        public string? LastId
        {
            get => Volatile.Read(ref _lastId);
            set => Volatile.Write(ref _lastId, value);
        }

        private string? _lastId;

        /// <summary>The highest sequence number delivered, per publishing bus instance (reader only).</summary>
        public Dictionary<string, long> LastSeen { get; } = new(StringComparer.Ordinal);

        public Own Append(string channel, ReadOnlyMemory<byte> payload)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
            payload.Span.CopyTo(buffer);
            var own = new Own(++Seq, channel, buffer, payload.Length);
            Pending.Add(own);
            return own;
        }

        public void Remove(Own own)
        {
            Pending.Remove(own);
            own.ReadBack = true;
            own.ReleaseIfDone();
        }
    }

    /// <summary>An auto-reset signal that can be awaited with a timeout.</summary>
    private sealed class SignalSource
    {
        private readonly SemaphoreSlim _semaphore = new(0, 1);

        public void Set()
        {
            try
            {
                _semaphore.Release();
            }
            catch (SemaphoreFullException)
            {
                // already set
            }
        }

        public Task<bool> WaitAsync(CancellationToken cancellationToken) => _semaphore.WaitAsync(Timeout.Infinite, cancellationToken);

        public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                await _semaphore.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // the periodic check
            }

            _ = time;
        }
    }
}
