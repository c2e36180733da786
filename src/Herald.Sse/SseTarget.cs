namespace Herald.Sse;

/// <summary>
/// Clients addressed by <see cref="SseServer.To(string)"/>: each name is a client id or a topic; the union is
/// reached, each client once. Chain <see cref="To(string)"/> to add names.
/// </summary>
public readonly struct SseTarget
{
    private readonly SseServer? _server;
    private readonly string[]? _targets;

    internal SseTarget(SseServer server, string[] targets)
    {
        _server = server;
        _targets = targets;
    }

    /// <summary>Adds a client id or topic.</summary>
    /// <param name="clientIdOrTopic">A client id or topic name.</param>
    /// <returns>The wider target.</returns>
    public SseTarget To(string clientIdOrTopic)
    {
        ArgumentNullException.ThrowIfNull(clientIdOrTopic);
        var current = Targets;
        var next = new string[current.Length + 1];
        current.CopyTo(next, 0);
        next[^1] = clientIdOrTopic;
        return new SseTarget(Server, next);
    }

    /// <summary>Sends a <c>message</c> event. Strings are sent as-is, other objects as JSON.</summary>
    /// <param name="data">The data.</param>
    public void Send(object? data) => Server.Publish(Targets, null, data);

    /// <summary>Sends a named event.</summary>
    /// <param name="eventName">The event type (no CR/LF).</param>
    /// <param name="data">The data: strings as-is, other objects as JSON.</param>
    public void Emit(string eventName, object? data = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        Server.Publish(Targets, eventName, data);
    }

    /// <summary>Closes every addressed client for good (a reconnect gets 204).</summary>
    public void Close() => Server.CloseClients(Targets);

    private SseServer Server => _server ?? throw new InvalidOperationException("Use SseServer.To(...) to address clients.");

    private string[] Targets => _targets ?? [];
}
