namespace Herald.SocketIO;

/// <summary>The reasons given to <see cref="Socket.OnDisconnecting"/> and <see cref="Socket.OnDisconnect"/> (the socket.io strings).</summary>
public static class DisconnectReasons
{
    /// <summary>The server called <see cref="Socket.Disconnect(bool)"/>.</summary>
    public const string ServerNamespaceDisconnect = "server namespace disconnect";

    /// <summary>The client sent a DISCONNECT packet for this namespace.</summary>
    public const string ClientNamespaceDisconnect = "client namespace disconnect";

    /// <summary>The server is shutting down.</summary>
    public const string ServerShuttingDown = "server shutting down";

    /// <summary>The client did not answer a ping in time.</summary>
    public const string PingTimeout = "ping timeout";

    /// <summary>The connection was closed (the client left or the network dropped).</summary>
    public const string TransportClose = "transport close";

    /// <summary>The connection failed.</summary>
    public const string TransportError = "transport error";

    /// <summary>The client sent something that is not Engine.IO.</summary>
    public const string ParseError = "parse error";

    /// <summary>The Engine.IO session was closed (by the server, or because the client sent an invalid Socket.IO packet).</summary>
    public const string ForcedClose = "forced close";

    /// <summary>The server closed the connection without a namespace-level disconnect.</summary>
    public const string ForcedServerClose = "forced server close";
}
