namespace Herald.Messaging.PeerLinks;

/// <summary>Options of the links this process opens to other nodes' channel endpoints (<see cref="PeerLinkMessageBus"/>).</summary>
public sealed class PeerLinkOptions
{
    /// <summary>Links opened when the bus is created (<c>services.AddHeraldPeerLinks(o =&gt; o.Peers.Add(...))</c>).</summary>
    public IList<PeerLinkEndpoint> Peers { get; } = [];

    /// <summary>The shared key used by links that do not name their own.</summary>
    public string? Key { get; set; }

    /// <summary>The first wait before reconnecting a lost link (default 200 ms); doubled up to <see cref="MaxReconnectDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between reconnection attempts (default 10 s).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an attempt may take from TCP connect to the node's welcome (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a subscription waits for the linked nodes to confirm it before completing anyway (default 10 s).</summary>
    public TimeSpan SubscribeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>WebSocket ping interval (default 15 s); a peer that does not answer within <see cref="KeepAliveTimeout"/> is dropped and reconnected.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long to wait for a ping's answer (default 15 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The largest frame accepted from a linked node, in bytes (default 16 MiB); a larger one drops the connection.</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Frames queued for sending per link (default 10,000); a publication that finds the queue full is not forwarded on that link.</summary>
    public int MaxQueuedFrames { get; set; } = 10_000;

    /// <summary>
    /// Bytes queued for sending per link (default 32 MiB, two maximum-size frames); a publication that would go over
    /// it is not forwarded on that link. Without it the frame bound alone lets a stalled peer hold 10,000 × 16 MiB.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>The clock of reconnection delays (tests inject their own).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>A node to link to: its name, its channel endpoint and the shared key.</summary>
/// <param name="NodeName">The node's name (<c>rpc-server-1</c>); the node must announce the same name.</param>
/// <param name="Uri">Its channel endpoint (<c>ws://10.0.0.5:5000/herald/channel</c>).</param>
/// <param name="Key">The shared key; null uses <see cref="PeerLinkOptions.Key"/>.</param>
public sealed record PeerLinkEndpoint(string NodeName, Uri Uri, string? Key = null);

/// <summary>Options of the channel endpoint this node exposes to other nodes (<see cref="PeerLinkServer"/>).</summary>
public sealed class PeerLinkServerOptions
{
    /// <summary>The shared key every connecting node must present in the <c>Herald-Key</c> header. Required.</summary>
    public string? Key { get; set; }

    /// <summary>The largest frame accepted from a linked node, in bytes (default 16 MiB); a larger one closes it (1009).</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Frames queued for one linked node (default 10,000); a node that lets its queue fill up is disconnected (1008) and reconnects.</summary>
    public int MaxQueuedFrames { get; set; } = 10_000;

    /// <summary>
    /// Bytes queued for one linked node (default 32 MiB, two maximum-size frames); a node that stops reading while
    /// more than this waits for it is disconnected (1008) and reconnects, as with <see cref="MaxQueuedFrames"/>.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Channels and patterns one linked node may subscribe to (default 10,000).</summary>
    public int MaxSubscriptions { get; set; } = 10_000;

    /// <summary>
    /// Decides whether a linked node (its announced name) may subscribe to a channel or a pattern (the bool is
    /// true for a pattern): the node's bus subscribes on the remote node's behalf, so this is where a shared
    /// key's reach is narrowed per node. Null (the default) allows everything the key allows. A refusal answers
    /// <c>{"type":"error","id":n,"message":"subscription refused"}</c> and the link stays up.
    /// </summary>
    public Func<string, string, bool, bool>? AuthorizeSubscription { get; set; }

    /// <summary>
    /// Own publications remembered per subscription so that a node is not sent back what it published
    /// (default 1,024; see docs/wire-format.md, "Peer links").
    /// </summary>
    public int MaxPendingEchoes { get; set; } = 1024;

    /// <summary>WebSocket ping interval of the endpoint (default 15 s).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the endpoint waits for a ping's answer before dropping the node (default 15 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
