namespace Herald.Protocol.EngineIO;

/// <summary>The Engine.IO v4 packet types; the value is the digit that starts the packet on the wire.</summary>
public enum EnginePacketType : byte
{
    /// <summary><c>0</c>: the handshake, sent by the server with a JSON payload.</summary>
    Open = 0,

    /// <summary><c>1</c>: the transport can be closed.</summary>
    Close = 1,

    /// <summary><c>2</c>: heartbeat request (server to client; <c>2probe</c> from the client during an upgrade).</summary>
    Ping = 2,

    /// <summary><c>3</c>: heartbeat answer (client to server; <c>3probe</c> from the server during an upgrade).</summary>
    Pong = 3,

    /// <summary><c>4</c>: application data.</summary>
    Message = 4,

    /// <summary><c>5</c>: the client completes an upgrade.</summary>
    Upgrade = 5,

    /// <summary><c>6</c>: nothing; used to end a pending long-polling request during an upgrade.</summary>
    Noop = 6,
}
