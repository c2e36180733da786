namespace Herald.Messaging.Emitters;

/// <summary>
/// The <see cref="IMessageBus"/> channels that carry Socket.IO cluster envelopes. Every node's cluster adapter
/// of namespace <c>/orders</c> subscribes to <c>sio:/orders</c> (publications for every node: broadcasts,
/// requests, heartbeats) and to <c>sio:/orders:web-server-1</c> (what targets that node only: <c>Via</c>,
/// remote-socket actions, answers to its requests). On Redis, with the default prefix, these are
/// <c>herald:sio:/orders</c> and <c>herald:sio:/orders:web-server-1</c>.
/// </summary>
/// <remarks>
/// A broadcast to rooms goes on the namespace channel once and every node filters it against its own room
/// index (no per-room channels): see docs/wire-format.md for the measurement behind that choice. Nodes check the
/// envelope's <c>nsp</c> and <c>target</c> too, so two names that map to the same channel cannot mix.
/// </remarks>
public static class SocketIOChannels
{
    /// <summary>The default channel prefix, <c>sio</c>.</summary>
    public const string DefaultPrefix = "sio";

    /// <summary>The channel every node serving <paramref name="ns"/> subscribes to: <c>{prefix}:{ns}</c>.</summary>
    /// <param name="prefix">The channel prefix (<see cref="DefaultPrefix"/>).</param>
    /// <param name="ns">The namespace, starting with <c>/</c>.</param>
    /// <returns>The channel name.</returns>
    public static string ForNamespace(string prefix, string ns) => prefix + ":" + ns;

    /// <summary>The channel of one node for <paramref name="ns"/>: <c>{prefix}:{ns}:{node}</c>.</summary>
    /// <param name="prefix">The channel prefix (<see cref="DefaultPrefix"/>).</param>
    /// <param name="ns">The namespace, starting with <c>/</c>.</param>
    /// <param name="node">The node name (or an emitter's source name, for the answers it waits for).</param>
    /// <returns>The channel name.</returns>
    public static string ForNode(string prefix, string ns, string node) => prefix + ":" + ns + ":" + node;

    /// <summary>Normalizes a namespace name: a leading <c>/</c> is added when missing.</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The namespace starting with <c>/</c>.</returns>
    public static string NormalizeNamespace(string ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.Length > 0 && ns[0] == '/' ? ns : "/" + ns;
    }
}
