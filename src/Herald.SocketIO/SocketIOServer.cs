using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.EngineIO;
using Herald.Protocol.SocketIO;
using Herald.SocketIO.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.SocketIO;

/// <summary>
/// The Socket.IO server (socket.io's <c>io</c>): namespaces, and everything of the main namespace <c>/</c>
/// (<see cref="OnConnection(Action{Socket})"/>, <see cref="Use(Func{Socket, Func{Task}, Task})"/>, broadcasts...). It accepts Engine.IO
/// connections as their <see cref="IEngineConnectionHandler"/>.
/// </summary>
public sealed partial class SocketIOServer : IEngineConnectionHandler
{
    private readonly ConcurrentDictionary<string, Namespace> _namespaces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ClientConnection, byte> _clients = new();
    private readonly Lock _lock = new();
    private ParentNamespace[] _parents = [];
    private long _ackIds;
    private int _parentIds;

    /// <summary>Creates a server (DI uses the <see cref="IOptions{TOptions}"/> constructor).</summary>
    public SocketIOServer(SocketIOOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        Options = options ?? new SocketIOOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Options.MaxRoomsPerSocket, 0, nameof(SocketIOOptions.MaxRoomsPerSocket));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Options.MaxNamespacesPerConnection, 0, nameof(SocketIOOptions.MaxNamespacesPerConnection));
        if (Options.ConnectRateLimit is { PermitsPerSecond: <= 0 or double.NaN } or { Burst: <= 0 })
        {
            throw new ArgumentOutOfRangeException(nameof(SocketIOOptions.ConnectRateLimit), "The connect rate and burst must be positive.");
        }

        if (Options.HandlerErrorLogRateLimit is { PermitsPerSecond: <= 0 or double.NaN } or { Burst: <= 0 })
        {
            throw new ArgumentOutOfRangeException(nameof(SocketIOOptions.HandlerErrorLogRateLimit), "The rate and burst must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Options.MaxAttachments, nameof(SocketIOOptions.MaxAttachments));

        JsonOptions = SocketIOJson.CreateOptions(Options.JsonSerializerOptions);
        TimeProvider = Options.TimeProvider;
        Logger = (ILogger?)loggerFactory?.CreateLogger<SocketIOServer>() ?? NullLogger.Instance;
        AuditLogger = loggerFactory?.CreateLogger(SocketIOLog.AuditCategory) ?? NullLogger.Instance;
        Sockets = Of("/");
        SocketIOMetrics.Register(this);
    }

    /// <summary>Creates a server from DI options.</summary>
    public SocketIOServer(IOptions<SocketIOOptions> options, ILoggerFactory loggerFactory)
        : this(options.Value, loggerFactory)
    {
    }

    /// <summary>The settings.</summary>
    public SocketIOOptions Options { get; }

    /// <summary>The main namespace <c>/</c> (socket.io's <c>io.sockets</c>).</summary>
    public Namespace Sockets { get; }

    /// <summary>The static namespaces and the dynamic children created so far, by name.</summary>
    public IReadOnlyDictionary<string, Namespace> Namespaces => _namespaces;

    /// <summary>The JSON options used for arguments (the configured ones plus the binary converters).</summary>
    public JsonSerializerOptions JsonOptions { get; }

    internal TimeProvider TimeProvider { get; }

    internal ILogger Logger { get; }

    /// <summary>Security-relevant events (refused connections) under the <c>Herald.Audit</c> category.</summary>
    internal ILogger AuditLogger { get; }

    /// <summary>The namespace <paramref name="name"/>, created when it does not exist (a leading <c>/</c> is added if missing).</summary>
    public Namespace Of(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name[0] != '/')
        {
            name = "/" + name;
        }

        return _namespaces.GetOrAdd(name, static (n, server) => new Namespace(server, n, null), this);
    }

    /// <summary>A dynamic namespace: every connection to a name matching <paramref name="pattern"/> creates (or reuses) a child.</summary>
    public ParentNamespace Of(Regex pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return AddParent((name, _) => pattern.IsMatch(name));
    }

    /// <summary>A dynamic namespace: every connection to a name accepted by <paramref name="predicate"/> creates (or reuses) a child.</summary>
    public ParentNamespace Of(Func<string, Handshake, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return AddParent(predicate);
    }

    /// <inheritdoc />
    public void OnOpen(EngineConnection connection)
    {
        var client = new ClientConnection(this, connection);
        _clients[client] = 0;
        if (!connection.IsConnected)
        {
            _clients.TryRemove(client, out _);
        }
    }

    /// <summary>Disconnects every client (reason <c>server shutting down</c> once their connections close).</summary>
    public void DisconnectAll()
    {
        foreach (var client in _clients.Keys)
        {
            client.DisconnectAll();
        }
    }

    /// <summary>Counts the open client connections by transport (for the metrics; walks the clients).</summary>
    internal void CountConnections(ref int polling, ref int websocket)
    {
        foreach (var client in _clients.Keys)
        {
            if (client.Connection.TransportName == EngineTransports.WebSocket)
            {
                websocket++;
            }
            else
            {
                polling++;
            }
        }
    }

    internal long NextAckId() => Interlocked.Increment(ref _ackIds) - 1;

    internal void RemoveClient(ClientConnection client) => _clients.TryRemove(client, out _);

    internal void RemoveNamespace(Namespace ns) => _namespaces.TryRemove(new KeyValuePair<string, Namespace>(ns.Name, ns));

    /// <summary>A static namespace wins; otherwise the first dynamic namespace whose matcher accepts the name creates a child.</summary>
    internal Namespace? Resolve(string name, Handshake handshake)
    {
        if (_namespaces.TryGetValue(name, out var ns))
        {
            return ns;
        }

        foreach (var parent in _parents)
        {
            bool matches;
            try
            {
                matches = parent.Matches(name, handshake);
            }
            catch (Exception ex)
            {
                SocketIOLog.ConnectionHandlerError(Logger, name, "-", ex);
                matches = false;
            }

            if (matches)
            {
                var child = parent.GetOrCreateChild(name);
                return _namespaces.GetOrAdd(name, child);
            }
        }

        return null;
    }

    private ParentNamespace AddParent(Func<string, Handshake, bool> predicate)
    {
        var parent = new ParentNamespace(this, "/_" + Interlocked.Increment(ref _parentIds), predicate);
        lock (_lock)
        {
            _parents = [.. _parents, parent];
        }

        return parent;
    }
}
