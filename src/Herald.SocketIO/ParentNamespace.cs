using System.Collections.Concurrent;

namespace Herald.SocketIO;

/// <summary>
/// A dynamic namespace (socket.io <c>io.of(/regex/)</c> or <c>io.of(predicate)</c>): a child namespace is
/// created on the first CONNECT to a matching name that is not a static namespace. Connection handlers and
/// middlewares added here run for every child; broadcasts from here reach the sockets of every child.
/// </summary>
public sealed class ParentNamespace : Namespace
{
    private readonly Func<string, Handshake, bool> _matcher;
    private readonly ConcurrentDictionary<string, Namespace> _children = new(StringComparer.Ordinal);

    internal ParentNamespace(SocketIOServer server, string name, Func<string, Handshake, bool> matcher)
        : base(server, name, null, static ns => new ParentAdapter((ParentNamespace)ns))
    {
        _matcher = matcher;
    }

    /// <summary>The child namespaces created so far.</summary>
    public IReadOnlyCollection<Namespace> Children => (IReadOnlyCollection<Namespace>)_children.Values;

    internal bool Matches(string name, Handshake handshake) => _matcher(name, handshake);

    internal Namespace GetOrCreateChild(string name) => _children.GetOrAdd(name, static (n, parent) => new Namespace(parent.Server, n, parent), this);

    internal void RemoveChild(Namespace child)
    {
        if (_children.TryRemove(new KeyValuePair<string, Namespace>(child.Name, child)))
        {
            Server.RemoveNamespace(child);
            child.Adapter.Dispose();
        }
    }

    internal IEnumerable<Namespace> ChildrenSnapshot => _children.Values;
}

/// <summary>Fans the operations of a <see cref="ParentNamespace"/> out to the adapters of its children.</summary>
internal sealed class ParentAdapter(ParentNamespace parent) : IAdapter
{
    public Namespace Namespace => parent;

    public event Action<string>? RoomCreated
    {
        add { }
        remove { }
    }

    public event Action<string>? RoomDeleted
    {
        add { }
        remove { }
    }

    public event Action<string, string>? RoomJoined
    {
        add { }
        remove { }
    }

    public event Action<string, string>? RoomLeft
    {
        add { }
        remove { }
    }

    public ValueTask InitAsync() => ValueTask.CompletedTask;

    public ValueTask AddAllAsync(string socketId, IReadOnlyCollection<string> rooms) => ValueTask.CompletedTask;

    public ValueTask DelAsync(string socketId, string room) => ValueTask.CompletedTask;

    public ValueTask DelAllAsync(string socketId) => ValueTask.CompletedTask;

    public int RoomCount => 0; // the children's adapters count their own rooms

    public IReadOnlyCollection<string>? SocketRooms(string socketId) => null;

    public void Broadcast(BroadcastPacket packet, BroadcastOptions options)
    {
        foreach (var child in parent.ChildrenSnapshot)
        {
            child.Adapter.Broadcast(packet.ForNamespace(child.Name), options);
        }
    }

    public void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack)
    {
        var any = false;
        foreach (var child in parent.ChildrenSnapshot)
        {
            any = true;
            child.Adapter.BroadcastWithAck(packet.ForNamespace(child.Name), options, clientCountCallback, ack);
        }

        if (!any)
        {
            clientCountCallback(0);
        }
    }

    public async ValueTask<IReadOnlyCollection<string>> SocketsAsync(IReadOnlyCollection<string> rooms)
    {
        var all = new List<string>();
        foreach (var child in parent.ChildrenSnapshot)
        {
            all.AddRange(await child.Adapter.SocketsAsync(rooms).ConfigureAwait(false));
        }

        return all;
    }

    public async ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        var all = new List<RemoteSocket>();
        foreach (var child in parent.ChildrenSnapshot)
        {
            all.AddRange(await child.Adapter.FetchSocketsAsync(options).ConfigureAwait(false));
        }

        return all;
    }

    public void AddSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        foreach (var child in parent.ChildrenSnapshot)
        {
            child.Adapter.AddSockets(options, rooms);
        }
    }

    public void DelSockets(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        foreach (var child in parent.ChildrenSnapshot)
        {
            child.Adapter.DelSockets(options, rooms);
        }
    }

    public void DisconnectSockets(BroadcastOptions options, bool close)
    {
        foreach (var child in parent.ChildrenSnapshot)
        {
            child.Adapter.DisconnectSockets(options, close);
        }
    }

    public void ServerSideEmit(string eventName, object?[] args)
    {
        foreach (var child in parent.ChildrenSnapshot)
        {
            child.Adapter.ServerSideEmit(eventName, args);
        }
    }

    public async Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout)
    {
        var tasks = new List<Task<IReadOnlyList<ServerSideResponse>>>();
        foreach (var child in parent.ChildrenSnapshot)
        {
            tasks.Add(child.Adapter.ServerSideEmitWithAckAsync(eventName, args, timeout));
        }

        var all = new List<ServerSideResponse>();
        var expected = 0;
        var timedOut = false;
        foreach (var task in tasks)
        {
            try
            {
                var responses = await task.ConfigureAwait(false);
                all.AddRange(responses);
                expected += responses.Count;
            }
            catch (ServerSideEmitTimeoutException e)
            {
                all.AddRange(e.Responses);
                expected += e.Expected;
                timedOut = true;
            }
        }

        return timedOut ? throw new ServerSideEmitTimeoutException(all, expected) : all;
    }

    public ValueTask<int> ServerCountAsync() => new(1);

    public void Dispose()
    {
    }
}
