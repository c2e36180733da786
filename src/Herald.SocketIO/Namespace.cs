using System.Collections.Concurrent;
using System.Text.Json;
using Herald.SocketIO.Internal;

namespace Herald.SocketIO;

/// <summary>
/// A communication channel multiplexed over the clients' connections (socket.io <c>io.of(name)</c>): its
/// own connection handlers, middlewares, sockets, rooms (through its <see cref="Adapter"/>) and broadcasts.
/// </summary>
public partial class Namespace
{
    private readonly ConcurrentDictionary<string, Socket> _sockets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Func<Socket, Func<Task>, Task>[] _middlewares = [];
    private Func<Socket, Func<Task>, Task>[] _recoveryMiddlewares = [];
    private Func<Socket, Task>[] _connectionHandlers = [];
    private Dictionary<string, Action<IReadOnlyList<JsonElement>, AckCallback>[]> _serverSideHandlers = new(StringComparer.Ordinal);

    internal Namespace(SocketIOServer server, string name, ParentNamespace? parent, Func<Namespace, IAdapter>? adapterFactory = null)
    {
        Server = server;
        Name = name;
        Parent = parent;
        var factory = adapterFactory ?? server.Options.AdapterFactory ?? (static ns => new InMemoryAdapter(ns));
        Adapter = factory(this);
        RecoveryAdapter = server.Options.ConnectionStateRecovery is null ? null : Adapter as ISessionAwareAdapter;
        var init = Adapter.InitAsync();
        if (!init.IsCompletedSuccessfully)
        {
            _ = ObserveInit(init);
        }
    }

    /// <summary>The name, starting with <c>/</c>.</summary>
    public string Name { get; }

    /// <summary>The server.</summary>
    public SocketIOServer Server { get; }

    /// <summary>The room index and broadcast engine of this namespace.</summary>
    public IAdapter Adapter { get; }

    /// <summary>The dynamic namespace this one was created from, if any.</summary>
    public ParentNamespace? Parent { get; }

    /// <summary>The connected sockets of this server, by id.</summary>
    public IReadOnlyDictionary<string, Socket> Sockets => _sockets;

    /// <summary>Runs <paramref name="handler"/> for every socket that connects (after the middlewares accepted it).</summary>
    public virtual Namespace OnConnection(Action<Socket> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnConnection(socket =>
        {
            handler(socket);
            return Task.CompletedTask;
        });
    }

    /// <summary>Runs <paramref name="handler"/> for every socket that connects; register event handlers before the first await.</summary>
    public virtual Namespace OnConnection(Func<Socket, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _connectionHandlers = [.. _connectionHandlers, handler];
        }

        return this;
    }

    /// <summary>
    /// Adds a connection middleware: call <c>next</c> to accept; throw <see cref="ConnectionRejectedException"/>
    /// (or any exception) to refuse with a CONNECT_ERROR <c>{message, data}</c>. Returning without calling
    /// <c>next</c> refuses too.
    /// </summary>
    public virtual Namespace Use(Func<Socket, Func<Task>, Task> middleware) => Use(middleware, runsOnRecovery: false);

    /// <summary>
    /// Adds a connection middleware that, with <paramref name="runsOnRecovery"/>, also runs for a socket restored by
    /// connection-state recovery when <see cref="ConnectionStateRecoveryOptions.SkipMiddlewares"/> skips the others
    /// (socket.io's default): for infrastructure that must attach its state to every socket, such as Herald.Sessions.
    /// Such middlewares run in registration order among themselves; the skipped ones do not run at all.
    /// </summary>
    /// <param name="middleware">The middleware: call <c>next</c> to accept.</param>
    /// <param name="runsOnRecovery">Whether it runs for recovered sockets when the other middlewares are skipped.</param>
    /// <returns>This namespace.</returns>
    public virtual Namespace Use(Func<Socket, Func<Task>, Task> middleware, bool runsOnRecovery)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        lock (_lock)
        {
            _middlewares = [.. _middlewares, middleware];
            if (runsOnRecovery)
            {
                _recoveryMiddlewares = [.. _recoveryMiddlewares, middleware];
            }
        }

        return this;
    }

    /// <summary>The adapter when recovery is on and the adapter supports it (<see cref="ISessionAwareAdapter"/>); null otherwise.</summary>
    internal ISessionAwareAdapter? RecoveryAdapter { get; }

    internal bool TryGetSocket(string id, out Socket socket) => _sockets.TryGetValue(id, out socket!);

    internal long NextAckId() => Server.NextAckId();

    /// <summary>Runs the middlewares for a new socket, then accepts it (own room, CONNECT, connection handlers) or refuses it.</summary>
    internal async Task AddSocketAsync(ClientConnection client, Handshake handshake)
    {
        var socket = await CreateSocketAsync(client, handshake).ConfigureAwait(false);
        Exception? rejection = null;
        var accepted = false;
        try
        {
            accepted = await RunMiddlewaresAsync(socket, socket.Recovered && Server.Options.ConnectionStateRecovery is { SkipMiddlewares: true }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            rejection = ex;
        }

        if (client.IsClosed)
        {
            client.ConnectFailed(Name);
            return;
        }

        if (!accepted)
        {
            client.ConnectFailed(Name);
            var message = rejection?.Message ?? "Connection rejected";
            SocketIOLog.ConnectionRejected(Server.Logger, Name, message);
            if (client.TryTakeErrorLog(out _))
            {
                SocketIOLog.AuditConnectRefused(Server.AuditLogger, SocketIOLog.Printable(Name), handshake.Address ?? "-", SocketIOLog.Printable(message));
            }

            var data = (rejection as ConnectionRejectedException)?.ErrorData;
            client.Send(Protocol.SocketIO.SocketIOPacketEncoder.EncodeConnectError(Name, message, data, Server.JsonOptions), isVolatile: false);
            return;
        }

        _sockets[socket.Id] = socket;
        if (!client.Register(socket) || !await socket.ConnectAsync().ConfigureAwait(false))
        {
            _sockets.TryRemove(socket.Id, out _);
            await Adapter.DelAllAsync(socket.Id).ConfigureAwait(false);
            return;
        }

        SocketIOLog.SocketConnected(Server.Logger, socket.Id, Name);
        if (Parent is not null)
        {
            RunConnectionHandlers(Parent._connectionHandlers, socket);
        }

        RunConnectionHandlers(_connectionHandlers, socket);
        socket.MarkReady();
    }

    /// <summary>A new socket, or the restored session when the client presents a <c>pid</c> and <c>offset</c> that can be recovered.</summary>
    private async ValueTask<Socket> CreateSocketAsync(ClientConnection client, Handshake handshake)
    {
        var auth = handshake.Auth;
        if (RecoveryAdapter is { } adapter && auth.ValueKind == JsonValueKind.Object
            && auth.TryGetProperty("pid"u8, out var pid) && pid.ValueKind == JsonValueKind.String
            && auth.TryGetProperty("offset"u8, out var offset) && offset.ValueKind == JsonValueKind.String)
        {
            var pidText = pid.GetString()!;
            var offsetText = offset.GetString()!;
            var session = adapter.RestoreSession(pidText, offsetText);

            // Across nodes every node logs the bus's packets as they arrive, so a client that got its last packet on
            // another node can be back here a moment before this node logged that packet: wait a little for it.
            for (var attempt = 0; session is null && attempt < RecoveryCatchUpAttempts && adapter.MayCatchUp(pidText, offsetText); attempt++)
            {
                await Task.Delay(s_recoveryCatchUpStep).ConfigureAwait(false);
                session = adapter.RestoreSession(pidText, offsetText);
            }

            if (session is not null)
            {
                return new Socket(this, client, handshake, session, offsetText);
            }
        }

        return new Socket(this, client, handshake);
    }

    // Bus lag tolerated when restoring a session logged elsewhere: 25 x 20 ms (real time: it waits for another node).
    private const int RecoveryCatchUpAttempts = 25;
    private static readonly TimeSpan s_recoveryCatchUpStep = TimeSpan.FromMilliseconds(20);

    internal void Remove(Socket socket)
    {
        if (_sockets.TryRemove(new KeyValuePair<string, Socket>(socket.Id, socket))
            && _sockets.IsEmpty && Parent is not null && Server.Options.CleanupEmptyChildNamespaces)
        {
            Parent.RemoveChild(this);
        }
    }

    private Task<bool> RunMiddlewaresAsync(Socket socket, bool onlyThoseRunningOnRecovery)
    {
        Func<Socket, Func<Task>, Task>[] middlewares = onlyThoseRunningOnRecovery
            ? Parent is null ? _recoveryMiddlewares : [.. Parent._recoveryMiddlewares, .. _recoveryMiddlewares]
            : Parent is null ? _middlewares : [.. Parent._middlewares, .. _middlewares];
        if (middlewares.Length == 0)
        {
            return Task.FromResult(true);
        }

        var run = new MiddlewareRun(socket, middlewares);
        var chain = run.Invoke(0);
        return chain.IsCompletedSuccessfully ? Task.FromResult(run.Reached) : AwaitChain(chain, run);

        static async Task<bool> AwaitChain(Task chain, MiddlewareRun run)
        {
            await chain.ConfigureAwait(false);
            return run.Reached;
        }
    }

    private void RunConnectionHandlers(Func<Socket, Task>[] handlers, Socket socket)
    {
        foreach (var handler in handlers)
        {
            try
            {
                var task = handler(socket);
                if (!task.IsCompletedSuccessfully)
                {
                    _ = ObserveHandler(task, socket);
                }
            }
            catch (Exception ex)
            {
                SocketIOLog.ConnectionHandlerError(Server.Logger, Name, socket.Id, ex);
            }
        }
    }

    private async Task ObserveHandler(Task task, Socket socket)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.ConnectionHandlerError(Server.Logger, Name, socket.Id, ex);
        }
    }

    private async Task ObserveInit(ValueTask init)
    {
        try
        {
            await init.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.AdapterError(Server.Logger, Name, ex);
        }
    }

    private sealed class MiddlewareRun(Socket socket, Func<Socket, Func<Task>, Task>[] middlewares)
    {
        public bool Reached { get; private set; }

        public Task Invoke(int index)
        {
            if (index == middlewares.Length)
            {
                Reached = true;
                return Task.CompletedTask;
            }

            return middlewares[index](socket, () => Invoke(index + 1));
        }
    }
}
