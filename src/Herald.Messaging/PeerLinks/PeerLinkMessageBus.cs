using System.Collections.Concurrent;
using System.Text;
using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// The decentralised bus of the SFN message channel: this process's own bus plus links to named remote nodes
/// (<c>await bus.ConnectAsync("rpc-server-1", new Uri("ws://host/herald/channel"), key)</c>).
/// </summary>
/// <remarks>
/// <para>A subscription is placed on the local bus and on every linked node, so the process receives what it
/// publishes itself and what the linked nodes' processes publish; a node it has no link to is never heard.</para>
/// <para>A publication is delivered on the local bus and forwarded to every connected link, where the remote
/// node publishes it on its own bus: a worker linked to <c>web-server-1</c> pushes to that node's browsers by
/// publishing a cluster envelope on the channel its Socket.IO/SSE servers listen to. A link that is down
/// does not receive publications (like pub/sub, nothing is stored); it reconnects with backoff and restores
/// every subscription before it reports <see cref="MessageBusState.Connected"/> again.</para>
/// </remarks>
public sealed class PeerLinkMessageBus : IMessageBus, ISubscriptionOwner
{
    private readonly IMessageBus _local;
    private readonly bool _ownsLocal;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SubscriptionRegistry _remote = new();
    private readonly ConcurrentDictionary<string, PeerLink> _links = new(StringComparer.Ordinal);

    // Orders subscription changes with link (re)connections, so that a SUBSCRIBE is never lost between a
    // link's snapshot of the subscriptions and its going live. Held only to enqueue frames, never across an await.
    private readonly Lock _subscriptionLock = new();
    private volatile bool _disposed;

    /// <summary>Creates the bus over <paramref name="local"/> and opens the links listed in <paramref name="options"/>.</summary>
    /// <param name="local">This process's own bus (in-memory or Redis).</param>
    /// <param name="options">Link options; default values when null.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="ownsLocalBus">Whether disposing this bus disposes <paramref name="local"/>.</param>
    public PeerLinkMessageBus(IMessageBus local, PeerLinkOptions? options = null, ILoggerFactory? loggerFactory = null, bool ownsLocalBus = false)
    {
        ArgumentNullException.ThrowIfNull(local);
        if (local is PeerLinkMessageBus)
        {
            throw new ArgumentException("The local bus of a PeerLinkMessageBus cannot be another PeerLinkMessageBus.", nameof(local));
        }

        _local = local;
        _ownsLocal = ownsLocalBus;
        Options = options ?? new PeerLinkOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<PeerLinkMessageBus>();
        _local.StateChanged += OnLocalStateChanged;
        foreach (var peer in Options.Peers)
        {
            AddLink(peer.NodeName, peer.Uri, peer.Key);
        }
    }

    /// <summary>This process's own bus, which linked nodes are served from (links are not transitive).</summary>
    public IMessageBus Local => _local;

    /// <summary>The link options.</summary>
    public PeerLinkOptions Options { get; }

    /// <summary>The links, by remote node name.</summary>
    public IReadOnlyDictionary<string, PeerLink> Links => _links;

    /// <inheritdoc />
    public string NodeName => _local.NodeName;

    /// <inheritdoc />
    public MessageBusState State => _disposed ? MessageBusState.Disposed : _local.State;

    /// <inheritdoc />
    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Links to node <paramref name="nodeName"/> at <paramref name="uri"/> and waits until the link is up with every
    /// subscription in place. The link then stays, reconnecting with backoff, until it or this bus is disposed.
    /// </summary>
    /// <param name="nodeName">The remote node's name; the node must announce the same name.</param>
    /// <param name="uri">Its channel endpoint (<c>ws://host:5000/herald/channel</c>).</param>
    /// <param name="key">The shared key; null uses <see cref="PeerLinkOptions.Key"/>.</param>
    /// <param name="cancellationToken">Stops waiting (the link is removed).</param>
    /// <returns>The connected link.</returns>
    /// <exception cref="PeerLinkException">The node refused the key or announced another name.</exception>
    public async Task<PeerLink> ConnectAsync(string nodeName, Uri uri, string? key = null, CancellationToken cancellationToken = default)
    {
        var link = AddLink(nodeName, uri, key);
        try
        {
            await link.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            return link;
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds a link to <paramref name="nodeName"/> and returns at once; it connects in the background and keeps retrying.</summary>
    /// <param name="nodeName">The remote node's name.</param>
    /// <param name="uri">Its channel endpoint.</param>
    /// <param name="key">The shared key; null uses <see cref="PeerLinkOptions.Key"/>.</param>
    /// <returns>The link.</returns>
    public PeerLink AddLink(string nodeName, Uri uri, string? key = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!HeraldNode.IsValidName(nodeName))
        {
            throw new ArgumentException($"'{nodeName}' is not a valid node name.", nameof(nodeName));
        }

        ArgumentNullException.ThrowIfNull(uri);
        var resolvedKey = key ?? Options.Key ?? throw new ArgumentException("A peer link needs a key: pass one or set PeerLinkOptions.Key.", nameof(key));
        var link = new PeerLink(this, nodeName, uri, resolvedKey, _loggerFactory.CreateLogger<PeerLink>());
        if (!_links.TryAdd(nodeName, link))
        {
            throw new InvalidOperationException($"There is already a link to '{nodeName}'.");
        }

        link.Start();
        return link;
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (_disposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(PeerLinkMessageBus)));
        }

        if (!_links.IsEmpty)
        {
            Forward(channel, payload.Span);
        }

        return _local.PublishAsync(channel, payload, cancellationToken);
    }

    private void Forward(string channel, ReadOnlySpan<byte> payload)
    {
        if (Encoding.UTF8.GetByteCount(channel) > PeerLinkProtocol.MaxNameBytes)
        {
            throw new ArgumentException("A channel name is at most 65,535 UTF-8 bytes.", nameof(channel));
        }

        // Encoded once, the same pooled frame is queued on every connected link.
        PeerFrame? frame = null;
        foreach (var link in _links.Values)
        {
            if (!link.IsConnected)
            {
                continue;
            }

            if (frame is null)
            {
                frame = PeerFrame.RentBinary(PeerLinkProtocol.GetPublishLength(channel, payload.Length));
                PeerLinkProtocol.WritePublish(frame.Span, channel, payload);
            }

            link.Forward(frame, channel);
        }

        frame?.Release();
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(channel, isPattern: false, handler, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
        => SubscribeCoreAsync(pattern, isPattern: true, handler, cancellationToken);

    private async ValueTask<IAsyncDisposable> SubscribeCoreAsync(string name, bool isPattern, BusMessageHandler handler, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Encoding.UTF8.GetByteCount(name) > PeerLinkProtocol.MaxNameBytes)
        {
            throw new ArgumentException("A channel or pattern name is at most 65,535 UTF-8 bytes.", nameof(name));
        }

        var local = isPattern
            ? await _local.SubscribePatternAsync(name, handler, cancellationToken).ConfigureAwait(false)
            : await _local.SubscribeAsync(name, handler, cancellationToken).ConfigureAwait(false);

        var remote = new Subscription(this, name, isPattern, handler);
        List<Task>? confirmations = null;
        lock (_subscriptionLock)
        {
            _remote.Add(remote);
            foreach (var link in _links.Values)
            {
                // Sent for every registration (the node treats a repeated SUBSCRIBE as a no-op and confirms it), so
                // that each caller waits for a confirmation of its own.
                var confirmed = link.SendSubscribe(name, isPattern);
                if (!confirmed.IsCompleted)
                {
                    (confirmations ??= []).Add(confirmed);
                }
            }
        }

        if (confirmations is not null)
        {
            await WaitConfirmationsAsync(confirmations, name, cancellationToken).ConfigureAwait(false);
        }

        return new CompositeSubscription(local, remote);
    }

    private async Task WaitConfirmationsAsync(List<Task> confirmations, string name, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(confirmations).WaitAsync(Options.SubscribeTimeout, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A slow or lost link must not fail the subscription: it is restored when the link reconnects.
            PeerLinkLog.LinkSubscribeTimeout(_logger, "(linked nodes)", name, Options.SubscribeTimeout);
        }
    }

    ValueTask ISubscriptionOwner.RemoveAsync(Subscription subscription)
    {
        lock (_subscriptionLock)
        {
            if (_remote.Remove(subscription))
            {
                foreach (var link in _links.Values)
                {
                    link.SendUnsubscribe(subscription.Name, subscription.IsPattern);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Called by a link that just connected: under the subscription lock, it goes live and queues a SUBSCRIBE
    /// for every subscribed name, so no concurrent subscription can slip between the snapshot and going live.
    /// </summary>
    internal List<Task> Attach(PeerLink link, PeerLinkConnection connection)
    {
        var confirmations = new List<Task>();
        lock (_subscriptionLock)
        {
            link.SetConnection(connection);
            var (channels, patterns) = _remote.Names();
            foreach (var name in channels)
            {
                confirmations.Add(link.SendSubscribe(name, isPattern: false));
            }

            foreach (var name in patterns)
            {
                confirmations.Add(link.SendSubscribe(name, isPattern: true));
            }
        }

        return confirmations;
    }

    internal void Detach(PeerLink link, PeerLinkConnection connection)
    {
        lock (_subscriptionLock)
        {
            link.ClearConnection(connection);
        }
    }

    internal void RemoveLink(PeerLink link) => _links.TryRemove(new KeyValuePair<string, PeerLink>(link.NodeName, link));

    /// <summary>Hands a message received from a linked node to the handlers of the subscription it was sent for.</summary>
    internal ValueTask DispatchAsync(ReadOnlySpan<byte> channelBytes, ReadOnlySpan<byte> patternBytes, ReadOnlyMemory<byte> payload)
    {
        // Names are looked up from the frame's bytes without allocating; an exact subscription reuses the
        // registered name as the message's channel.
        Span<char> chars = stackalloc char[256];
        if (patternBytes.IsEmpty)
        {
            var entry = Lookup(channelBytes, chars, isPattern: false);
            return entry is null
                ? ValueTask.CompletedTask
                : MessageDispatcher.DispatchAsync(entry.Subscriptions, new BusMessage(entry.Name, null, payload), _logger);
        }

        var patternEntry = Lookup(patternBytes, chars, isPattern: true);
        return patternEntry is null
            ? ValueTask.CompletedTask
            : MessageDispatcher.DispatchAsync(patternEntry.Subscriptions, new BusMessage(Encoding.UTF8.GetString(channelBytes), patternEntry.Name, payload), _logger);
    }

    private SubscriptionRegistry.Entry? Lookup(ReadOnlySpan<byte> utf8, Span<char> scratch, bool isPattern)
    {
        SubscriptionRegistry.Entry? entry;
        if (utf8.Length <= scratch.Length && Encoding.UTF8.TryGetChars(utf8, scratch, out var written))
        {
            var name = scratch[..written];
            return (isPattern ? _remote.TryGetPattern(name, out entry) : _remote.TryGetChannel(name, out entry)) ? entry : null;
        }

        var text = Encoding.UTF8.GetString(utf8);
        return (isPattern ? _remote.TryGetPattern(text, out entry) : _remote.TryGetChannel(text, out entry)) ? entry : null;
    }

    private void OnLocalStateChanged(object? sender, MessageBusStateChangedEventArgs e) => StateChanged?.Invoke(this, e);

    /// <summary>Closes every link, then the local bus when this bus owns it.</summary>
    /// <returns>A task completing when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var link in _links.Values)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        _local.StateChanged -= OnLocalStateChanged;
        if (_ownsLocal)
        {
            await _local.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class CompositeSubscription(IAsyncDisposable local, IAsyncDisposable remote) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            await remote.DisposeAsync().ConfigureAwait(false);
            await local.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A peer link could not be established for a reason retrying will not fix (wrong key, wrong node).</summary>
public sealed class PeerLinkException : MessageBusException
{
    /// <summary>Creates the exception.</summary>
    public PeerLinkException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PeerLinkException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PeerLinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
