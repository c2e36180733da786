namespace Herald.SocketIO;

/// <summary>
/// Connection-state recovery (socket.io's <c>connectionStateRecovery</c>): a client that lost its connection
/// and comes back within <see cref="MaxDisconnectionDuration"/> gets its socket id, rooms and
/// <see cref="Socket.Data"/> back, and every non-volatile event it missed, in order, without duplicates
/// (<see cref="Socket.Recovered"/> is true). The official client does its part on its own once the server
/// sends a private session id in the CONNECT answer.
/// </summary>
/// <remarks>
/// Non-volatile events without acknowledgement are logged per namespace with an offset that travels as their
/// last argument (which the client's handlers receive, as with socket.io). On one server the log and the
/// sessions live in memory; with the cluster adapter every node logs the broadcasts it receives from the
/// bus, in bus order, and sessions are replicated to every node, so a client can recover on another node,
/// even when its first node was killed.
/// </remarks>
public sealed class ConnectionStateRecoveryOptions
{
    /// <summary>How long a session and the packets it may miss are kept after a disconnection (2 minutes like socket.io).</summary>
    public TimeSpan MaxDisconnectionDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether a recovered socket skips the connection middlewares (true like socket.io).</summary>
    public bool SkipMiddlewares { get; set; } = true;

    /// <summary>
    /// The most packets the log of one namespace keeps (10,000); older ones are dropped first, and a client
    /// whose last offset was dropped reconnects as a new socket (not recovered).
    /// </summary>
    public int MaxPackets { get; set; } = 10_000;

    /// <summary>The most sessions one namespace keeps for recovery (100,000); beyond it the oldest disconnected ones are dropped.</summary>
    public int MaxSessions { get; set; } = 100_000;
}
