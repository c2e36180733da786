namespace Herald.SocketIO;

/// <summary>
/// A socket's recovery session (socket.io's <c>Session</c>): what a client that comes back with its private session
/// id gets again. An <see cref="ISessionAwareAdapter"/> keeps it while the client is away.
/// </summary>
public sealed class RecoverySession
{
    /// <summary>The private session id: the secret the client presents to get its socket back.</summary>
    public required string Pid { get; init; }

    /// <summary>The socket id, which the restored socket keeps.</summary>
    public required string Sid { get; init; }

    /// <summary>The rooms the restored socket joins again.</summary>
    public required IReadOnlyCollection<string> Rooms { get; init; }

    /// <summary>The socket's <see cref="Socket.Data"/>, copied into the restored socket.</summary>
    public required IReadOnlyDictionary<string, object?> Data { get; init; }

    /// <summary>The node that holds (or last held) the socket; null on a single server.</summary>
    public string? Owner { get; init; }

    /// <summary>Bumped by every restore (<see cref="Socket.SessionGeneration"/>), so updates from the previous holder are recognised as stale.</summary>
    public int Generation { get; init; }

    /// <summary>When the client went away (Unix milliseconds); -1 while it is connected.</summary>
    public long DisconnectedAt { get; set; } = -1;
}
