using Herald.Sse.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Sse;

/// <summary>
/// The Server-Sent Events server: the registry of SSE clients and topics behind
/// <c>app.MapServerSentEvents("/events")</c>, and the API to push to them: <see cref="Send"/>, <see cref="Emit"/> and
/// <see cref="Close"/> to all, or through <see cref="To(string)"/> to clients and topics.
/// </summary>
/// <remarks>
/// Every event gets a server-wide sequence number under one publish lock, so every client sees events in the same
/// order and a reconnect can ask "everything after N". The lock covers only in-memory work: bodies are encoded before
/// it, and delivery is a non-blocking enqueue per client, each client draining its own queue.
/// </remarks>
public sealed partial class SseServer : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SseClient> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SseRoom> _rooms = new(StringComparer.Ordinal);
    private readonly HashSet<SseConnection> _connections = [];
    private readonly SseHistory _allHistory = new();
    private readonly HashSet<SseClient> _scratchClients = [];
    private readonly List<SseClient> _scratchList = [];
    private readonly Queue<(SseClient Client, long EndedAt)> _disconnected = new();
    private readonly SseOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly string _instanceTag;
    private readonly ISseHistoryStore? _store;
    private readonly byte[] _idPrefix;
    private readonly byte[] _resumeKey;
    private long _seq;
    private int _connectionCount;
    private bool _stopping;

    /// <summary>Creates the server (normally resolved from DI after <c>AddServerSentEvents</c>).</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger, or <c>null</c>.</param>
    /// <param name="historyStore">A history shared with other nodes, so reconnects to another node resume; or <c>null</c> (default) for this node's memory only.</param>
    public SseServer(IOptions<SseOptions> options, ILogger<SseServer>? logger = null, ISseHistoryStore? historyStore = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        Validate(_options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = _options.TimeProvider;
        _instanceTag = SseEventId.NewInstanceTag();
        _store = historyStore;
        _idPrefix = System.Text.Encoding.UTF8.GetBytes("id: " + _instanceTag + "-");
        _resumeKey = _options.ResumeKey is { } key ? System.Text.Encoding.UTF8.GetBytes(key) : System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        _timer = _time.CreateTimer(static s => ((SseServer)s!).OnTick(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
        SseMetrics.Register(this);
    }

    /// <summary>Raised after a client's connection is attached (new or resumed). Runs on the request's thread.</summary>
    public event Action<SseClient>? ClientConnected;

    /// <summary>Raised after a client's connection ended, with the reason.</summary>
    public event Action<SseClient, SseDisconnectReason>? ClientDisconnected;

    /// <summary>The options in use.</summary>
    public SseOptions Options => _options;

    /// <summary>Open connections.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>Finds a client by id (connected, or disconnected within its replay window).</summary>
    /// <param name="clientId">The client id.</param>
    /// <param name="client">The client.</param>
    /// <returns>Whether it exists and is not closed.</returns>
    public bool TryGetClient(string clientId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SseClient? client)
    {
        lock (_lock)
        {
            if (_clients.TryGetValue(clientId, out client) && !client.IsClosed)
            {
                return true;
            }
        }

        client = null;
        return false;
    }

    /// <summary>Sends a <c>message</c> event to every client. Strings are sent as-is, other objects as JSON.</summary>
    /// <param name="data">The data.</param>
    public void Send(object? data) => Publish(null, null, data);

    /// <summary>Sends a named event to every client.</summary>
    /// <param name="eventName">The event type (no CR/LF).</param>
    /// <param name="data">The data: strings as-is, other objects as JSON.</param>
    public void Emit(string eventName, object? data = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        Publish(null, eventName, data);
    }

    /// <summary>Closes every client for good: their streams end and their reconnects get 204.</summary>
    public void Close() => CloseClients(null);

    /// <summary>Addresses one client id or topic.</summary>
    /// <param name="clientIdOrTopic">A client id or topic name.</param>
    /// <returns>The target.</returns>
    public SseTarget To(string clientIdOrTopic)
    {
        ArgumentNullException.ThrowIfNull(clientIdOrTopic);
        return new SseTarget(this, [clientIdOrTopic]);
    }

    /// <summary>Addresses the union of several client ids and topics; each client gets an event once.</summary>
    /// <param name="clientIdsOrTopics">Client ids or topic names.</param>
    /// <returns>The target.</returns>
    public SseTarget To(params string[] clientIdsOrTopics)
    {
        ArgumentNullException.ThrowIfNull(clientIdsOrTopics);
        foreach (var t in clientIdsOrTopics)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(clientIdsOrTopics));
        }

        return new SseTarget(this, (string[])clientIdsOrTopics.Clone());
    }

    /// <summary>Ends every stream (not final: clients reconnect, e.g. to another node) and refuses new ones. Called when the application stops.</summary>
    public void Shutdown()
    {
        lock (_lock)
        {
            _stopping = true;
            foreach (var connection in _connections)
            {
                connection.Complete(SseDisconnectReason.ServerShutdown);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        Shutdown();
    }

    internal IReadOnlyCollection<string> GetTopics(SseClient client)
    {
        lock (_lock)
        {
            return [.. client.Rooms.Keys];
        }
    }

    internal void Join(SseClient client, string topic)
    {
        ValidateTopic(topic);
        lock (_lock)
        {
            if (!client.IsClosed && _clients.TryGetValue(client.Id, out var current) && current == client)
            {
                JoinLocked(client, topic);
                _store?.SaveSession(_instanceTag, client.Id, client.Rooms);
            }
        }
    }

    internal void Disconnect(SseClient client)
    {
        lock (_lock)
        {
            // Complete (not Terminate): what is already queued is written first. Later events find the queue
            // completed, stay in history only, and are replayed on the reconnect.
            client.Connection?.Complete(SseDisconnectReason.DisconnectedByServer);
        }
    }

    internal void Leave(SseClient client, string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        lock (_lock)
        {
            LeaveLocked(client, topic);
            if (!client.IsClosed)
            {
                _store?.SaveSession(_instanceTag, client.Id, client.Rooms);
            }
        }
    }

    private void JoinLocked(SseClient client, string topic)
    {
        // Replay after a reconnect starts at the join, never before it.
        if (client.Rooms.TryAdd(topic, _seq))
        {
            if (!_rooms.TryGetValue(topic, out var room))
            {
                room = new SseRoom();
                _rooms.Add(topic, room);
            }

            room.Members.Add(client);
        }
    }

    private void LeaveLocked(SseClient client, string topic)
    {
        if (client.Rooms.Remove(topic) && _rooms.TryGetValue(topic, out var room))
        {
            room.Members.Remove(client);
            if (room.Members.Count == 0)
            {
                _rooms.Remove(topic);
            }
        }
    }

    private void LeaveAllLocked(SseClient client)
    {
        foreach (var topic in client.Rooms.Keys)
        {
            if (_rooms.TryGetValue(topic, out var room))
            {
                room.Members.Remove(client);
                if (room.Members.Count == 0)
                {
                    _rooms.Remove(topic);
                }
            }
        }

        client.Rooms.Clear();
        client.Direct = null;
    }

    /// <summary>Records that <paramref name="client"/> has no connection any more, and forgets the oldest disconnected clients beyond the cap.</summary>
    private void NoteDisconnectedLocked(SseClient client)
    {
        _disconnected.Enqueue((client, client.EndedAt));
        while (_clients.Count - _connections.Count > _options.MaxDisconnectedClients && _disconnected.TryDequeue(out var entry))
        {
            // Entries go stale when the client resumed, was swept, or disconnected again later (a newer entry exists).
            var c = entry.Client;
            if (c.Connection is null && c.EndedAt == entry.EndedAt && _clients.TryGetValue(c.Id, out var current) && current == c)
            {
                LeaveAllLocked(c);
                _clients.Remove(c.Id);
                SseMetrics.DisconnectedClientsEvicted.Add(1);
            }
        }
    }

    private void ValidateTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (topic.Length > _options.MaxNameLength)
        {
            throw new ArgumentException($"A topic name is at most {_options.MaxNameLength} characters.", nameof(topic));
        }
    }

    private long Now => _time.GetTimestamp();

    private long ToTimestampUnits(TimeSpan span)
        => span == TimeSpan.MaxValue ? long.MaxValue : (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    private static void Validate(SseOptions o)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.HeartbeatInterval, TimeSpan.Zero, nameof(SseOptions.HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.RetryInterval, TimeSpan.Zero, nameof(SseOptions.RetryInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ReplayWindow, TimeSpan.Zero, nameof(SseOptions.ReplayWindow));
        ArgumentOutOfRangeException.ThrowIfNegative(o.MaxHistory, nameof(SseOptions.MaxHistory));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxQueuedBytes, 0, nameof(SseOptions.MaxQueuedBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxQueuedMessages, 0, nameof(SseOptions.MaxQueuedMessages));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxClients, 0, nameof(SseOptions.MaxClients));
        ArgumentOutOfRangeException.ThrowIfNegative(o.MaxTopicsPerRequest, nameof(SseOptions.MaxTopicsPerRequest));
        ArgumentOutOfRangeException.ThrowIfNegative(o.MaxDisconnectedClients, nameof(SseOptions.MaxDisconnectedClients));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxNameLength, 0, nameof(SseOptions.MaxNameLength));
        ArgumentNullException.ThrowIfNull(o.TimeProvider, nameof(SseOptions.TimeProvider));
        if (o.ResumeKey is { Length: < 32 })
        {
            throw new ArgumentException("SseOptions.ResumeKey is a secret of at least 32 characters (or null for a random key per process).", nameof(o));
        }
        ArgumentNullException.ThrowIfNull(o.JsonSerializerOptions, nameof(SseOptions.JsonSerializerOptions));
    }

    private void RaiseConnected(SseClient client)
    {
        try
        {
            ClientConnected?.Invoke(client);
        }
        catch (Exception e)
        {
            SseLog.HandlerFailed(_logger, nameof(ClientConnected), e);
        }
    }

    private void RaiseDisconnected(SseClient client, SseDisconnectReason reason)
    {
        try
        {
            ClientDisconnected?.Invoke(client, reason);
        }
        catch (Exception e)
        {
            SseLog.HandlerFailed(_logger, nameof(ClientDisconnected), e);
        }
    }
}
