namespace Herald.Sse;

/// <summary>The answer of <see cref="SseOptions.Authorize"/>: accept (optionally naming the client and its topics) or reject with a status code.</summary>
public sealed class SseAuthorizationResult
{
    private static readonly SseAuthorizationResult s_accepted = new(true, 0, null, null);

    private SseAuthorizationResult(bool accepted, int statusCode, string? clientId, IReadOnlyList<string>? topics)
    {
        IsAccepted = accepted;
        StatusCode = statusCode;
        ClientId = clientId;
        Topics = topics;
    }

    /// <summary>Whether the connection is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>The HTTP status of a rejection (401, 403, ...).</summary>
    public int StatusCode { get; }

    /// <summary>The client id to use instead of a server-assigned one (e.g. a user or device id), or <c>null</c>.</summary>
    public string? ClientId { get; }

    /// <summary>Topics the client joins on connect, chosen by the server (not checked by <see cref="SseOptions.AuthorizeTopic"/>).</summary>
    public IReadOnlyList<string>? Topics { get; }

    /// <summary>Accepts with a server-assigned id and no extra topics.</summary>
    public static SseAuthorizationResult Accept() => s_accepted;

    /// <summary>Accepts with the given client id and topics.</summary>
    /// <param name="clientId">The client id, or <c>null</c> for a server-assigned one. No CR, LF or NUL.</param>
    /// <param name="topics">Topics to join on connect, or <c>null</c>.</param>
    /// <returns>The result.</returns>
    public static SseAuthorizationResult Accept(string? clientId, IReadOnlyList<string>? topics = null) => new(true, 0, clientId, topics);

    /// <summary>Rejects the connection.</summary>
    /// <param name="statusCode">The response status, 403 by default.</param>
    /// <returns>The result.</returns>
    public static SseAuthorizationResult Reject(int statusCode = 403)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        return new(false, statusCode, null, null);
    }
}
