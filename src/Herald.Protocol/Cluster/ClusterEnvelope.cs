namespace Herald.Protocol.Cluster;

/// <summary>
/// One publication between Herald nodes: who sent it, which node(s) it targets, what it does
/// (<see cref="Kind"/>), and the Socket.IO/SSE addressing (namespace, rooms, except, flags) with the
/// packet to deliver. Its JSON form (see <see cref="ClusterEnvelopeCodec"/>) is the documented wire
/// format that any language can <c>PUBLISH</c> to Redis.
/// </summary>
public sealed class ClusterEnvelope
{
    /// <summary>The wire-format version this library writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The wire-format version (<c>v</c>); 1.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The node that published it (<c>source</c>); nodes ignore what they published themselves where the kind says so.</summary>
    public required string Source { get; init; }

    /// <summary>The only node that should act on it (<c>target</c>), or null for every node.</summary>
    public string? Target { get; init; }

    /// <summary>What it does (<c>kind</c>): one of <see cref="ClusterEnvelopeKinds"/>, or an extension kind.</summary>
    public required string Kind { get; init; }

    /// <summary>The Socket.IO namespace (<c>nsp</c>); default <c>/</c>.</summary>
    public string Namespace { get; init; } = "/";

    /// <summary>Rooms to deliver to (<c>rooms</c>); empty means every client of the namespace.</summary>
    public IReadOnlyList<string> Rooms { get; init; } = [];

    /// <summary>Rooms (a socket id is a room) whose clients must not receive it (<c>except</c>).</summary>
    public IReadOnlyList<string> Except { get; init; } = [];

    /// <summary>Delivery flags (<c>flags</c>).</summary>
    public ClusterEnvelopeFlags Flags { get; init; }

    /// <summary>Correlates a request with its responses (<c>requestId</c>): acks, fetchSockets, serverSideEmit.</summary>
    public string? RequestId { get; init; }

    /// <summary>How long the publisher waits for acknowledgements, in milliseconds (<c>ackTimeout</c>), when it waits.</summary>
    public int? AckTimeoutMilliseconds { get; init; }

    /// <summary>
    /// The packet to deliver (<c>packet</c>), as raw UTF-8 JSON: for Socket.IO
    /// <c>{"type":2,"data":["event",arg...]}</c>; for SSE <c>{"event":"e","data":...,"id":"..."}</c>.
    /// Empty when the kind has no packet.
    /// </summary>
    public ReadOnlyMemory<byte> Packet { get; init; }

    /// <summary>Kind-specific JSON (<c>data</c>): socket ids and rooms to join, fetch results, counts. Empty when absent.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Binary attachments of the packet (<c>attachments</c>, base64 in JSON), in placeholder order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; init; } = [];

    /// <summary>True when this envelope is for <paramref name="nodeName"/>: no target, or that node.</summary>
    public bool IsFor(string nodeName) => Target is null || string.Equals(Target, nodeName, StringComparison.Ordinal);
}

/// <summary>Delivery flags of a <see cref="ClusterEnvelope"/>; in JSON, an object of the flags that are set (<c>{"volatile":true}</c>).</summary>
[Flags]
public enum ClusterEnvelopeFlags
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>volatile</c>: may be dropped for a client that is not ready to receive.</summary>
    Volatile = 1,

    /// <summary><c>local</c>: only the source node delivers it (never set on the wire by Herald; kept for completeness).</summary>
    Local = 2,

    /// <summary><c>compress</c>: the transport may compress it.</summary>
    Compress = 4,

    /// <summary><c>binary</c>: the packet carries binary attachments.</summary>
    Binary = 8,
}

/// <summary>The kinds of <see cref="ClusterEnvelope"/> Herald speaks (the <c>kind</c> string on the wire).</summary>
public static class ClusterEnvelopeKinds
{
    /// <summary>Deliver <c>packet</c> to the clients of <c>nsp</c> in <c>rooms</c> minus <c>except</c>.</summary>
    public const string Broadcast = "broadcast";

    /// <summary>Like <see cref="Broadcast"/>, and count the acknowledgements (<c>requestId</c>, <c>ackTimeout</c>).</summary>
    public const string BroadcastWithAck = "broadcast-ack";

    /// <summary>A node's number of clients that will acknowledge a <see cref="BroadcastWithAck"/> (<c>data</c>: a number).</summary>
    public const string BroadcastClientCount = "broadcast-client-count";

    /// <summary>One client's acknowledgement of a <see cref="BroadcastWithAck"/> (<c>data</c>: the ack arguments).</summary>
    public const string BroadcastAckResponse = "broadcast-ack-response";

    /// <summary>Make the selected sockets join rooms (<c>data</c>: <c>{"rooms":[...]}</c>).</summary>
    public const string SocketsJoin = "sockets-join";

    /// <summary>Make the selected sockets leave rooms (<c>data</c>: <c>{"rooms":[...]}</c>).</summary>
    public const string SocketsLeave = "sockets-leave";

    /// <summary>Disconnect the selected sockets (<c>data</c>: <c>{"close":true}</c> to close the underlying connection).</summary>
    public const string DisconnectSockets = "disconnect-sockets";

    /// <summary>Ask every node for its selected sockets (<c>requestId</c>).</summary>
    public const string FetchSockets = "fetch-sockets";

    /// <summary>A node's answer to <see cref="FetchSockets"/> (<c>data</c>: the sockets).</summary>
    public const string FetchSocketsResponse = "fetch-sockets-response";

    /// <summary>An event for the other servers, not for clients (<c>packet</c>).</summary>
    public const string ServerSideEmit = "server-side-emit";

    /// <summary>A server's acknowledgement of a <see cref="ServerSideEmit"/>.</summary>
    public const string ServerSideEmitResponse = "server-side-emit-response";

    /// <summary>A node is alive (sent periodically).</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>A node is shutting down.</summary>
    public const string NodeClose = "node-close";

    /// <summary>A Socket.IO recovery session changed (<c>data</c>: <c>{"pid","sid","state","gen","rooms","data"}</c>); see connection-state recovery.</summary>
    public const string Session = "session";

    /// <summary>Send <c>packet</c> to SSE clients (<c>rooms</c>: client ids or topics).</summary>
    public const string SseSend = "sse-send";

    /// <summary>Close SSE clients (<c>rooms</c>: client ids or topics).</summary>
    public const string SseClose = "sse-close";
}
