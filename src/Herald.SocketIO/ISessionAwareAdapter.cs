namespace Herald.SocketIO;

/// <summary>
/// An adapter that supports connection-state recovery (socket.io-adapter's <c>SessionAwareAdapter</c>, with its
/// <c>persistSession</c> and <c>restoreSession</c>): it logs the recoverable broadcasts, keeps the sessions of
/// the sockets that went away, and gives a reconnecting client its id, rooms, data and the packets it missed.
/// </summary>
/// <remarks>
/// <para>When <see cref="SocketIOOptions.ConnectionStateRecovery"/> is set and a namespace's adapter implements
/// this interface, the namespace calls these hooks; an adapter that does not implement it runs with recovery off
/// (no private session id in CONNECT).</para>
/// <para>Logging: in <see cref="IAdapter.Broadcast"/>, a packet that is recoverable
/// (<see cref="BroadcastPacket.IsRecoverable"/>) and can still be stamped (<see cref="BroadcastPacket.CanStamp"/>)
/// gets an offset (<see cref="BroadcastPacket.Stamp"/>, unique in the namespace) and is logged BEFORE it is
/// delivered to any local socket, with its <see cref="BroadcastPacket.LogSequence"/> set to its position in the
/// log. A socket that is being restored joins its rooms, then reads <see cref="MissedPackets"/>; a live delivery
/// at or below the position returned there is dropped as a duplicate of the replay, so nothing is lost or doubled.</para>
/// <para>The hooks run on the socket's own connection; they must not block.</para>
/// </remarks>
public interface ISessionAwareAdapter : IAdapter
{
    /// <summary>A socket with a private session id was accepted (new or restored), before its CONNECT answer is sent.</summary>
    /// <param name="socket">The socket (<see cref="Socket.Pid"/> set).</param>
    void OnSessionConnected(Socket socket);

    /// <summary>A connected socket with a private session id joined or left rooms.</summary>
    /// <param name="socket">The socket; <see cref="Socket.Rooms"/> has its rooms now.</param>
    void OnSessionRoomsChanged(Socket socket);

    /// <summary>
    /// A socket with a private session id went away (socket.io's <c>persistSession</c>). When
    /// <paramref name="recoverable"/> (the client did not leave on purpose) keep its session for
    /// <see cref="ConnectionStateRecoveryOptions.MaxDisconnectionDuration"/>; otherwise forget it.
    /// </summary>
    /// <param name="socket">The socket, still with its data.</param>
    /// <param name="rooms">The rooms it was in, read before it left them.</param>
    /// <param name="recoverable">Whether the session may be restored.</param>
    void OnSessionClosed(Socket socket, IReadOnlyCollection<string> rooms, bool recoverable);

    /// <summary>
    /// Takes the session a reconnecting client asks for (socket.io's <c>restoreSession</c>): null when it is unknown,
    /// expired, still connected, already restored, or when <paramref name="offset"/> is no longer in the log. A
    /// session is handed out once.
    /// </summary>
    /// <param name="pid">The private session id the client presents.</param>
    /// <param name="offset">The offset of the last packet the client got.</param>
    /// <returns>The session, or null.</returns>
    RecoverySession? RestoreSession(string pid, string offset);

    /// <summary>
    /// Whether a restore that just failed may succeed in a moment: the session is known but <paramref name="offset"/>
    /// is not logged yet (on a cluster, a client can come back before this node logged the last packet it got).
    /// The namespace then retries <see cref="RestoreSession"/> for a short while. False on one server.
    /// </summary>
    /// <param name="pid">The private session id.</param>
    /// <param name="offset">The offset.</param>
    /// <returns>True to retry.</returns>
    bool MayCatchUp(string pid, string offset);

    /// <summary>
    /// The logged packets after <paramref name="offset"/> that target a socket in <paramref name="rooms"/>, in log order;
    /// called once a restored socket has joined its rooms.
    /// </summary>
    /// <param name="offset">The offset the client presented.</param>
    /// <param name="rooms">The restored socket's rooms, its own-id room included.</param>
    /// <param name="upTo">The <see cref="BroadcastPacket.LogSequence"/> of the last packet logged now: live deliveries up to it are duplicates.</param>
    /// <returns>The packets to replay.</returns>
    IReadOnlyList<BroadcastPacket> MissedPackets(string offset, IReadOnlyCollection<string> rooms, out long upTo);
}
