namespace Herald.Sse;

/// <summary>The answer of <see cref="SseOptions.Authorize"/>: accept (optionally naming the client and its topics) or reject with a status code.</summary>
public sealed class SseAuthorizationResult
{
    private static readonly SseAuthorizationResult s_accepted = new(true, 0, null, null, null);

    private SseAuthorizationResult(bool accepted, int statusCode, string? clientId, IReadOnlyList<string>? topics, string? owner)
    {
        IsAccepted = accepted;
        StatusCode = statusCode;
        ClientId = clientId;
        Topics = topics;
        Owner = owner;
    }

    /// <summary>Whether the connection is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>The HTTP status of a rejection (401, 403, ...).</summary>
    public int StatusCode { get; }

    /// <summary>
    /// The client id to use instead of a server-assigned one (e.g. a device id), or <c>null</c>. It must not start with
    /// the reserved <c>herald:</c> and shares the name space of topics (<see cref="SseServer.To(string)"/> reaches both),
    /// so choose ids a client cannot request as a topic (e.g. with <see cref="SseOptions.AuthorizeTopic"/>).
    /// </summary>
    public string? ClientId { get; }

    /// <summary>
    /// Who the client belongs to (the session layer passes the <c>herald.sid</c> session; an application its user id), or
    /// <c>null</c>. A reconnect with <c>Last-Event-ID</c> takes the client id back only from the same owner: anyone else
    /// gets a fresh id (see <see cref="SseOptions.ResumeKey"/>).
    /// </summary>
    public string? Owner { get; }

    /// <summary>Topics the client joins on connect, chosen by the server (not checked by <see cref="SseOptions.AuthorizeTopic"/>).</summary>
    public IReadOnlyList<string>? Topics { get; }

    /// <summary>Accepts with a server-assigned id and no extra topics.</summary>
    public static SseAuthorizationResult Accept() => s_accepted;

    /// <summary>Accepts with the given client id, topics and owner.</summary>
    /// <param name="clientId">The client id, or <c>null</c> for a server-assigned one. No CR, LF or NUL, not <c>herald:*</c>.</param>
    /// <param name="topics">Topics to join on connect, or <c>null</c>.</param>
    /// <param name="owner">Who the client belongs to (a session or user id), or <c>null</c>: see <see cref="Owner"/>.</param>
    /// <returns>The result.</returns>
    public static SseAuthorizationResult Accept(string? clientId, IReadOnlyList<string>? topics = null, string? owner = null) => new(true, 0, clientId, topics, owner);

    /// <summary>Rejects the connection.</summary>
    /// <param name="statusCode">The response status, 403 by default.</param>
    /// <returns>The result.</returns>
    public static SseAuthorizationResult Reject(int statusCode = 403)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        return new(false, statusCode, null, null, null);
    }
}
