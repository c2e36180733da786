using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;

namespace Herald.SocketIO.Cluster;

/// <summary>Settings of the <see cref="ClusterAdapter"/> (<c>services.AddSocketIO().AddClusterAdapter(o =&gt; ...)</c>).</summary>
public sealed class ClusterAdapterOptions
{
    /// <summary>How often a node tells the others it is alive (default 5 s, like socket.io's cluster adapters).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long without a heartbeat before a node is considered gone (default 10 s). A pending request stops
    /// waiting for a node as soon as it is considered gone.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long <c>FetchSocketsAsync</c> waits for the other nodes' answers (default 5 s); then it throws <see cref="TimeoutException"/>.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The prefix of the bus channels (default <c>sio</c>: <c>sio:/chat</c>, <c>sio:/chat:web-server-1</c>); the same as the emitters'.</summary>
    public string ChannelPrefix { get; set; } = SocketIOChannels.DefaultPrefix;

    /// <summary>Bounds on received envelopes (size, rooms, attachments, depth).</summary>
    public ClusterEnvelopeLimits Limits { get; set; } = ClusterEnvelopeLimits.Default;
}
