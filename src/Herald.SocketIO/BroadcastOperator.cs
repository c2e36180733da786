using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

/// <summary>
/// An immutable broadcast target: every method returns a new operator. <c>To</c>/<c>In</c> add rooms (the
/// targets are the union, each socket at most once), <c>Except</c> removes the members of rooms; with no
/// room, every socket of the namespace is targeted. The event is encoded once and the same messages are
/// written to every target.
/// </summary>
public sealed class BroadcastOperator
{
    private readonly IAdapter _adapter;
    private readonly string[] _rooms;
    private readonly string[] _except;
    private readonly BroadcastFlags _flags;

    internal BroadcastOperator(IAdapter adapter, string[] rooms, string[] except, BroadcastFlags flags)
    {
        _adapter = adapter;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>The target rooms.</summary>
    public IReadOnlyList<string> Rooms => _rooms;

    /// <summary>The excluded rooms.</summary>
    public IReadOnlyList<string> ExceptRooms => _except;

    /// <summary>The flags.</summary>
    public BroadcastFlags Flags => _flags;

    /// <summary>Also targets <paramref name="room"/>.</summary>
    public BroadcastOperator To(string room) => new(_adapter, Union(_rooms, room), _except, _flags);

    /// <summary>Also targets these rooms.</summary>
    public BroadcastOperator To(params IEnumerable<string> rooms) => new(_adapter, Union(_rooms, rooms), _except, _flags);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(params IEnumerable<string> rooms) => To(rooms);

    /// <summary>Skips the sockets in <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => new(_adapter, _rooms, Union(_except, room), _flags);

    /// <summary>Skips the sockets in these rooms.</summary>
    public BroadcastOperator Except(params IEnumerable<string> rooms) => new(_adapter, _rooms, Union(_except, rooms), _flags);

    /// <summary>Drops the event for clients that cannot take it right now.</summary>
    public BroadcastOperator Volatile => new(_adapter, _rooms, _except, _flags with { Volatile = true });

    /// <summary>Only this server's clients.</summary>
    public BroadcastOperator Local => new(_adapter, _rooms, _except, _flags with { Local = true });

    /// <summary>Sets the compress flag carried to the transport.</summary>
    public BroadcastOperator Compress(bool compress) => new(_adapter, _rooms, _except, _flags with { Compress = compress });

    /// <summary>Sets how long <see cref="EmitWithAckAsync"/> waits for the answers.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => new(_adapter, _rooms, _except, _flags with { Timeout = timeout });

    private BroadcastOptions Options => new(_rooms, _except, _flags);

    /// <summary>Emits <c>[eventName, ...args]</c> to every target.</summary>
    public bool Emit(string eventName, params ReadOnlySpan<object?> args)
    {
        Socket.ThrowIfReserved(eventName);
        var ns = _adapter.Namespace;
        var packet = new BroadcastPacket(ns.Name, eventName, args.ToArray(), -1, ns.Server.JsonOptions);
        _adapter.Broadcast(packet, Options);
        return true;
    }

    /// <summary>
    /// Emits and collects every target's acknowledgement. Completes when all answered (or disconnected);
    /// with <see cref="Timeout"/> set, throws <see cref="BroadcastTimeoutException"/> carrying the answers
    /// received in time.
    /// </summary>
    public Task<IReadOnlyList<AckResponse>> EmitWithAckAsync(string eventName, params ReadOnlySpan<object?> args)
    {
        Socket.ThrowIfReserved(eventName);
        var ns = _adapter.Namespace;
        var packet = new BroadcastPacket(ns.Name, eventName, args.ToArray(), ns.NextAckId(), ns.Server.JsonOptions);
        var collector = new BroadcastAckCollector(ns.Server.TimeProvider, _flags.Timeout);
        _adapter.BroadcastWithAck(packet, Options, collector.AddExpected, collector.Add);
        collector.Seal();
        return collector.Task;
    }

    /// <summary>
    /// Sends an event to the other servers and collects one answer per server (socket.io
    /// <c>io.timeout(ms).serverSideEmitWithAck(...)</c>): <see cref="Timeout"/> bounds the wait, <see cref="Local"/>
    /// asks nobody (an empty list). Rooms do not apply to servers: an operator with rooms or exceptions throws.
    /// </summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The answers, one per other server.</returns>
    /// <exception cref="ServerSideEmitTimeoutException">Not every server answered in time; carries the answers that did.</exception>
    public Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, params object?[] args)
    {
        Socket.ThrowIfReserved(eventName);
        if (_rooms.Length > 0 || _except.Length > 0)
        {
            throw new InvalidOperationException("serverSideEmitWithAck targets servers, not rooms: use Timeout(...) alone.");
        }

        return _flags.Local ? Task.FromResult<IReadOnlyList<ServerSideResponse>>([]) : _adapter.ServerSideEmitWithAckAsync(eventName, args ?? [null], _flags.Timeout);
    }

    /// <summary>The matching sockets (local and, with a cluster adapter, remote).</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => _adapter.FetchSocketsAsync(Options);

    /// <summary>Makes the matching sockets join <paramref name="rooms"/>.</summary>
    public void SocketsJoin(params IEnumerable<string> rooms) => _adapter.AddSockets(Options, Distinct(rooms));

    /// <summary>Makes the matching sockets leave <paramref name="rooms"/>.</summary>
    public void SocketsLeave(params IEnumerable<string> rooms) => _adapter.DelSockets(Options, Distinct(rooms));

    /// <summary>Disconnects the matching sockets; <paramref name="close"/> also closes their Engine.IO connections.</summary>
    public void DisconnectSockets(bool close = false) => _adapter.DisconnectSockets(Options, close);

    private static string[] Distinct(IEnumerable<string> rooms) => [.. new HashSet<string>(rooms, StringComparer.Ordinal)];

    private static string[] Union(string[] current, string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return Array.IndexOf(current, room) >= 0 ? current : [.. current, room];
    }

    private static string[] Union(string[] current, IEnumerable<string> rooms)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        if (rooms is string[] { Length: <= 1 } few)
        {
            return few.Length == 0 ? current : Union(current, few[0]);
        }

        // Linear: a set of what is already there (appending one by one with IndexOf and a copy was quadratic in
        // time and allocations for the thousands of rooms an API request can name; issue 13).
        var seen = new HashSet<string>(current, StringComparer.Ordinal);
        var result = new List<string>(current);
        foreach (var room in rooms)
        {
            ArgumentNullException.ThrowIfNull(room);
            if (seen.Add(room))
            {
                result.Add(room);
            }
        }

        return result.Count == current.Length ? current : [.. result];
    }
}

/// <summary>Gathers the acknowledgements of a broadcast until every reached client answered or the timeout.</summary>
internal sealed class BroadcastAckCollector
{
    private readonly Lock _lock = new();
    private readonly List<AckResponse> _responses = [];
    private readonly TaskCompletionSource<IReadOnlyList<AckResponse>> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer? _timer;
    private int _expected;
    private int _settled;
    private bool _sealed;

    public BroadcastAckCollector(TimeProvider time, TimeSpan? timeout)
    {
        if (timeout is { } t)
        {
            _timer = time.CreateTimer(static s => ((BroadcastAckCollector)s!).OnTimeout(), this, t, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    public Task<IReadOnlyList<AckResponse>> Task => _tcs.Task;

    public void AddExpected(int count)
    {
        lock (_lock)
        {
            _expected += count;
        }
    }

    public void Add(AckResponse response)
    {
        lock (_lock)
        {
            if (_tcs.Task.IsCompleted)
            {
                return;
            }

            _settled++;
            if (!response.IsMissing)
            {
                _responses.Add(response);
            }
        }

        TryComplete();
    }

    /// <summary>Called once the adapter reported the (local) count: completion is possible from now on.</summary>
    public void Seal()
    {
        lock (_lock)
        {
            _sealed = true;
        }

        TryComplete();
    }

    private void TryComplete()
    {
        IReadOnlyList<AckResponse> result;
        lock (_lock)
        {
            if (!_sealed || _settled < _expected || _tcs.Task.IsCompleted)
            {
                return;
            }

            result = [.. _responses];
        }

        _timer?.Dispose();
        _tcs.TrySetResult(result);
    }

    private void OnTimeout()
    {
        AckResponse[] partial;
        int expected;
        lock (_lock)
        {
            partial = [.. _responses];
            expected = _expected;
        }

        _timer?.Dispose();
        _tcs.TrySetException(new BroadcastTimeoutException(partial, expected));
    }
}
