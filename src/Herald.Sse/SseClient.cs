using Herald.Sse.Internal;

namespace Herald.Sse;

/// <summary>
/// One SSE client, identified by its id. The object outlives a single HTTP connection: after a disconnect it is kept
/// for <see cref="SseOptions.ReplayWindow"/> with its topics, so an EventSource reconnecting with <c>Last-Event-ID</c>
/// resumes where it left off; after <see cref="Close"/> it is kept for <see cref="SseOptions.ClosedClientRetention"/>
/// so that its reconnect gets 204.
/// </summary>
public sealed class SseClient
{
    private readonly SseServer _server;

    internal SseClient(SseServer server, string id, string? owner, string token)
    {
        _server = server;
        Id = id;
        Owner = owner;
        Token = token;
    }

    /// <summary>
    /// The client id: server-assigned (128 bits, base64url: an HMAC of a random resume token and the owner) or given by
    /// the authorization hook; never taken from the request. It is not a secret: the <c>id:</c> lines carry the resume
    /// token instead.
    /// </summary>
    public string Id { get; }

    /// <summary>Who the client belongs to (<see cref="SseAuthorizationResult.Owner"/>: with Herald.Sessions, its session id), or <c>null</c>.</summary>
    public string? Owner { get; }

    /// <summary>Whether an HTTP connection is currently attached.</summary>
    public bool IsConnected => Connection is not null;

    /// <summary>Whether the server closed this client for good.</summary>
    public bool IsClosed { get; internal set; }

    /// <summary>
    /// The topics that <see cref="SseOptions.Authorize"/> granted to the latest connection, exactly as the hook returned
    /// them (empty when it granted none): lets a layer that reconciles topics later tell a grant from a stale topic.
    /// </summary>
    public IReadOnlyList<string> GrantedTopics { get; internal set; } = [];

    /// <summary>The topics (rooms) this client is in, as a snapshot.</summary>
    public IReadOnlyCollection<string> Topics => _server.GetTopics(this);

    /// <summary>Adds the client to a topic; events sent to the topic reach it, and are replayed to it after a reconnect.</summary>
    /// <param name="topic">Topic name.</param>
    public void Join(string topic) => _server.Join(this, topic);

    /// <summary>Removes the client from a topic.</summary>
    /// <param name="topic">Topic name.</param>
    public void Leave(string topic) => _server.Leave(this, topic);

    /// <summary>Sends a <c>message</c> event to this client. Strings are sent as-is, other objects as JSON.</summary>
    /// <param name="data">The data.</param>
    public void Send(object? data) => _server.To(Id).Send(data);

    /// <summary>Sends a named event to this client.</summary>
    /// <param name="eventName">The event type (no CR/LF).</param>
    /// <param name="data">The data: strings as-is, other objects as JSON.</param>
    public void Emit(string eventName, object? data = null) => _server.To(Id).Emit(eventName, data);

    /// <summary>Ends the client's stream after what is queued, for good: a reconnect gets 204, so EventSource stops.</summary>
    public void Close() => _server.To(Id).Close();

    /// <summary>
    /// Ends the current connection after what is queued, but not for good: the EventSource reconnects with
    /// <c>Last-Event-ID</c> and gets what was sent meanwhile (e.g. to move clients to another node, or to make them
    /// authorize again). Nothing happens when the client is not connected.
    /// </summary>
    public void Disconnect() => _server.Disconnect(this);

    /// <summary>The resume token in this client's <c>id:</c> lines (never logged, never the id).</summary>
    internal string Token { get; }

    // ---- state owned by SseServer, guarded by its lock ----

    internal SseConnection? Connection { get; set; }

    /// <summary>Topic name → sequence at join time (events before it are not replayed to this client).</summary>
    internal Dictionary<string, long> Rooms { get; } = new(StringComparer.Ordinal);

    /// <summary>Events sent to this client by id, lazily created.</summary>
    internal SseHistory? Direct { get; set; }

    /// <summary>When the last connection ended (or the client was closed), in <see cref="TimeProvider"/> timestamp units.</summary>
    internal long EndedAt { get; set; }
}
