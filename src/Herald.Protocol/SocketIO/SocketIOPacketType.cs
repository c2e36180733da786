namespace Herald.Protocol.SocketIO;

/// <summary>The Socket.IO v5 packet types; the value is the digit that starts an encoded packet.</summary>
public enum SocketIOPacketType : byte
{
    /// <summary><c>0</c>: connection to a namespace (client: optional auth object; server: <c>{"sid":...}</c>).</summary>
    Connect = 0,

    /// <summary><c>1</c>: disconnection from a namespace; no payload.</summary>
    Disconnect = 1,

    /// <summary><c>2</c>: an event, payload <c>["name", ...args]</c>, optional ack id.</summary>
    Event = 2,

    /// <summary><c>3</c>: the answer to an event that carried an ack id, payload <c>[...args]</c>.</summary>
    Ack = 3,

    /// <summary><c>4</c>: a refused namespace connection, payload <c>{"message":...,"data":...}</c>.</summary>
    ConnectError = 4,

    /// <summary><c>5</c>: an event whose arguments reference binary attachments sent as the next messages.</summary>
    BinaryEvent = 5,

    /// <summary><c>6</c>: an ack whose arguments reference binary attachments sent as the next messages.</summary>
    BinaryAck = 6,
}
