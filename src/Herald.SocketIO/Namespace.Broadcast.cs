namespace Herald.SocketIO;

public partial class Namespace
{
    private BroadcastOperator All => new(Adapter, [], [], BroadcastFlags.Default);

    /// <summary>Targets the sockets of <paramref name="room"/>.</summary>
    public BroadcastOperator To(string room) => All.To(room);

    /// <summary>Targets the sockets of any of these rooms.</summary>
    public BroadcastOperator To(params IEnumerable<string> rooms) => All.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => All.To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(params IEnumerable<string> rooms) => All.To(rooms);

    /// <summary>Targets every socket except the members of <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => All.Except(room);

    /// <summary>Targets every socket except the members of these rooms.</summary>
    public BroadcastOperator Except(params IEnumerable<string> rooms) => All.Except(rooms);

    /// <summary>A volatile broadcast to every socket.</summary>
    public BroadcastOperator Volatile => All.Volatile;

    /// <summary>A broadcast to this server's sockets only.</summary>
    public BroadcastOperator Local => All.Local;

    /// <summary>A broadcast with the compress flag set.</summary>
    public BroadcastOperator Compress(bool compress) => All.Compress(compress);

    /// <summary>A broadcast whose acknowledgements time out.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => All.Timeout(timeout);

    /// <summary>Emits to every socket of the namespace.</summary>
    public bool Emit(string eventName, params ReadOnlySpan<object?> args) => All.Emit(eventName, args);

    /// <summary>Emits to every socket and collects their acknowledgements.</summary>
    public Task<IReadOnlyList<AckResponse>> EmitWithAckAsync(string eventName, params ReadOnlySpan<object?> args) => All.EmitWithAckAsync(eventName, args);

    /// <summary>Every socket of the namespace.</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => All.FetchSocketsAsync();

    /// <summary>Makes every socket join rooms.</summary>
    public void SocketsJoin(params IEnumerable<string> rooms) => All.SocketsJoin(rooms);

    /// <summary>Makes every socket leave rooms.</summary>
    public void SocketsLeave(params IEnumerable<string> rooms) => All.SocketsLeave(rooms);

    /// <summary>Disconnects every socket.</summary>
    public void DisconnectSockets(bool close = false) => All.DisconnectSockets(close);
}
