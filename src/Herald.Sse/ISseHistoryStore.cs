namespace Herald.Sse;

/// <summary>
/// Replay history shared between SSE nodes, so that a client reconnecting to <em>another</em> node (a load balancer
/// without affinity, a node that went down) gets what it missed. Optional: without one (the default) each node
/// replays from its own in-memory history, and a reconnect carrying another node's <c>Last-Event-ID</c> is told
/// <c>herald:missed</c> <c>{"reason":"unknown"}</c>.
/// </summary>
/// <remarks>
/// <para>Every node keeps its own history in memory (the fast path: a reconnect to the same node never asks the
/// store) and mirrors it here, keyed by its instance tag: each event it assigns a sequence number to, per audience
/// (everyone, a topic, a client id), and each client's session (its topics and when it joined them). A node that
/// receives <c>Last-Event-ID: {instance}-{seq}.{token}</c> of another instance asks
/// <see cref="ResumeAsync"/> what that instance delivered to the client after <c>seq</c>, replays it with the
/// original ids, and continues with its own.</para>
/// <para><see cref="Append"/>, <see cref="SaveSession"/> and <see cref="MarkClosed"/> are called under the server's
/// publish lock: they must not block or throw (queue and write behind). Events published on the new node while the
/// client switches over, and events the old node had not yet written, can be missed: cross-node resume is best
/// effort, same-node resume is exact.</para>
/// </remarks>
public interface ISseHistoryStore
{
    /// <summary>Records an event of <paramref name="instance"/> for one audience.</summary>
    /// <param name="instance">The instance tag of the node that numbered the event.</param>
    /// <param name="audience">Who it was for.</param>
    /// <param name="seq">Its sequence number on that node.</param>
    /// <param name="body">The event's frame body (<c>event:</c>/<c>data:</c> lines and the blank line, no <c>id:</c>).</param>
    void Append(string instance, SseAudience audience, long seq, byte[] body);

    /// <summary>Records a client's current topics (after it connects, joins or leaves).</summary>
    /// <param name="instance">The node's instance tag.</param>
    /// <param name="clientId">The client id.</param>
    /// <param name="topics">Topic → the sequence number at which the client joined it (events up to it are not for the client).</param>
    void SaveSession(string instance, string clientId, IReadOnlyDictionary<string, long> topics);

    /// <summary>Records that a client was closed for good, so that every node answers its reconnect with 204.</summary>
    /// <param name="clientId">The client id.</param>
    void MarkClosed(string clientId);

    /// <summary>What <paramref name="instance"/> delivered (or would have) to a client after <paramref name="afterSeq"/>.</summary>
    /// <param name="instance">The instance tag from the client's <c>Last-Event-ID</c>.</param>
    /// <param name="clientId">The client id.</param>
    /// <param name="afterSeq">The last sequence number the client saw.</param>
    /// <param name="cancellationToken">Cancels the lookup (the request was aborted).</param>
    /// <returns>The client's topics and missed events, or that it is unknown or closed.</returns>
    ValueTask<SseResumeResult> ResumeAsync(string instance, string clientId, long afterSeq, CancellationToken cancellationToken);
}

/// <summary>Who an event was for: everyone, a topic, or one client id.</summary>
public readonly record struct SseAudience
{
    private SseAudience(string key) => Key = key;

    /// <summary>Every client.</summary>
    public static SseAudience All { get; } = new("*");

    /// <summary>A stable string form: <c>*</c>, <c>t:{topic}</c> or <c>c:{clientId}</c> (for use as a storage key).</summary>
    public string Key { get; }

    /// <summary>The members of a topic.</summary>
    /// <param name="topic">The topic.</param>
    /// <returns>The audience.</returns>
    public static SseAudience Topic(string topic) => new("t:" + topic);

    /// <summary>One client, by id.</summary>
    /// <param name="clientId">The client id.</param>
    /// <returns>The audience.</returns>
    public static SseAudience Client(string clientId) => new("c:" + clientId);
}

/// <summary>One stored event: its sequence number on the node that numbered it, and its frame body.</summary>
/// <param name="Seq">The sequence number.</param>
/// <param name="Body">The frame body, without the <c>id:</c> line.</param>
public readonly record struct SseStoredEvent(long Seq, byte[] Body);

/// <summary>What <see cref="ISseHistoryStore.ResumeAsync"/> found.</summary>
public enum SseResumeStatus
{
    /// <summary>No session of that client on that instance (never stored, or expired).</summary>
    Unknown,

    /// <summary>The client was closed for good: answer 204.</summary>
    Closed,

    /// <summary>The session was found: <see cref="SseResumeResult.Topics"/> and <see cref="SseResumeResult.Events"/> are set.</summary>
    Found,
}

/// <summary>The answer of <see cref="ISseHistoryStore.ResumeAsync"/>.</summary>
/// <param name="Status">Whether the session was found.</param>
/// <param name="Topics">The client's topics.</param>
/// <param name="Events">The events it missed, in sequence order, each once.</param>
/// <param name="Gap">Whether some of what it missed is no longer stored (the client is told with <c>herald:missed</c>).</param>
public sealed record SseResumeResult(SseResumeStatus Status, IReadOnlyList<string> Topics, IReadOnlyList<SseStoredEvent> Events, bool Gap)
{
    /// <summary>No such session.</summary>
    public static SseResumeResult Unknown { get; } = new(SseResumeStatus.Unknown, [], [], false);

    /// <summary>The client was closed.</summary>
    public static SseResumeResult Closed { get; } = new(SseResumeStatus.Closed, [], [], false);
}
