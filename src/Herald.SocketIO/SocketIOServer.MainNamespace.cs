using System.Text.Json;

namespace Herald.SocketIO;

public sealed partial class SocketIOServer
{
    /// <summary>Handles connections to the main namespace.</summary>
    public SocketIOServer OnConnection(Action<Socket> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <summary>Handles connections to the main namespace asynchronously.</summary>
    public SocketIOServer OnConnection(Func<Socket, Task> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <summary>Adds a connection middleware to the main namespace.</summary>
    public SocketIOServer Use(Func<Socket, Func<Task>, Task> middleware)
    {
        Sockets.Use(middleware);
        return this;
    }

    /// <summary>Adds a connection middleware to the main namespace; see <see cref="Namespace.Use(Func{Socket, Func{Task}, Task}, bool)"/>.</summary>
    /// <param name="middleware">The middleware: call <c>next</c> to accept.</param>
    /// <param name="runsOnRecovery">Whether it runs for recovered sockets when the other middlewares are skipped.</param>
    /// <returns>This server.</returns>
    public SocketIOServer Use(Func<Socket, Func<Task>, Task> middleware, bool runsOnRecovery)
    {
        Sockets.Use(middleware, runsOnRecovery);
        return this;
    }

    /// <summary>Targets a room of the main namespace.</summary>
    public BroadcastOperator To(string room) => Sockets.To(room);

    /// <summary>Targets rooms of the main namespace.</summary>
    public BroadcastOperator To(params IEnumerable<string> rooms) => Sockets.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => Sockets.In(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(params IEnumerable<string> rooms) => Sockets.In(rooms);

    /// <summary>Targets the main namespace except a room.</summary>
    public BroadcastOperator Except(string room) => Sockets.Except(room);

    /// <summary>Targets the main namespace except rooms.</summary>
    public BroadcastOperator Except(params IEnumerable<string> rooms) => Sockets.Except(rooms);

    /// <summary>A volatile broadcast on the main namespace.</summary>
    public BroadcastOperator Volatile => Sockets.Volatile;

    /// <summary>A local broadcast on the main namespace.</summary>
    public BroadcastOperator Local => Sockets.Local;

    /// <summary>A broadcast on the main namespace with the compress flag.</summary>
    public BroadcastOperator Compress(bool compress) => Sockets.Compress(compress);

    /// <summary>A broadcast on the main namespace whose acknowledgements time out.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => Sockets.Timeout(timeout);

    /// <summary>Emits to every socket of the main namespace.</summary>
    public bool Emit(string eventName, params ReadOnlySpan<object?> args) => Sockets.Emit(eventName, args);

    /// <summary>Emits to every socket of the main namespace and collects the acknowledgements.</summary>
    public Task<IReadOnlyList<AckResponse>> EmitWithAckAsync(string eventName, params ReadOnlySpan<object?> args) => Sockets.EmitWithAckAsync(eventName, args);

    /// <summary>The sockets of the main namespace.</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => Sockets.FetchSocketsAsync();

    /// <summary>Makes every socket of the main namespace join rooms.</summary>
    public void SocketsJoin(params IEnumerable<string> rooms) => Sockets.SocketsJoin(rooms);

    /// <summary>Makes every socket of the main namespace leave rooms.</summary>
    public void SocketsLeave(params IEnumerable<string> rooms) => Sockets.SocketsLeave(rooms);

    /// <summary>Disconnects every socket of the main namespace.</summary>
    public void DisconnectSockets(bool close = false) => Sockets.DisconnectSockets(close);

    /// <summary>Sends an event to the other servers (main namespace).</summary>
    public void ServerSideEmit(string eventName, params ReadOnlySpan<object?> args) => Sockets.ServerSideEmit(eventName, args);

    /// <summary>Sends an event to the other servers and collects their answers (main namespace; see <see cref="Namespace.ServerSideEmitWithAckAsync(string, object?[])"/>).</summary>
    public Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, params object?[] args) => Sockets.ServerSideEmitWithAckAsync(eventName, args);

    /// <summary>Receives server-side events that may be answered (main namespace; see <see cref="Namespace.OnServerSideEmit(string, Action{IReadOnlyList{JsonElement}, AckCallback})"/>).</summary>
    public SocketIOServer OnServerSideEmit(string eventName, Action<IReadOnlyList<JsonElement>, AckCallback> handler)
    {
        Sockets.OnServerSideEmit(eventName, handler);
        return this;
    }

    /// <summary>Receives server-side events (main namespace).</summary>
    public SocketIOServer OnServerSideEmit(string eventName, Action<IReadOnlyList<JsonElement>> handler)
    {
        Sockets.OnServerSideEmit(eventName, handler);
        return this;
    }
}
