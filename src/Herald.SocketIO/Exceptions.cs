namespace Herald.SocketIO;

/// <summary>
/// Thrown by a namespace middleware to refuse a connection: the client receives a CONNECT_ERROR packet
/// <c>{"message": Message, "data": Data}</c> (any other exception refuses too, with its message and no data).
/// </summary>
public class ConnectionRejectedException : Exception
{
    /// <summary>Creates the rejection.</summary>
    public ConnectionRejectedException(string message, object? data = null)
        : base(message)
    {
        ErrorData = data;
    }

    /// <summary>Creates the rejection.</summary>
    public ConnectionRejectedException()
        : this("Connection rejected")
    {
    }

    /// <summary>Creates the rejection.</summary>
    public ConnectionRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Extra details sent to the client as <c>data</c> (serialized with the server's JSON options).</summary>
    public object? ErrorData { get; }
}

/// <summary>A broadcast with acknowledgements timed out; <see cref="Responses"/> holds what arrived in time.</summary>
public class BroadcastTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public BroadcastTimeoutException(IReadOnlyList<AckResponse> responses, int expected)
        : base($"Broadcast acknowledgement timed out: {responses.Count} of {expected} clients answered.")
    {
        Responses = responses;
        Expected = expected;
    }

    /// <summary>Creates the exception.</summary>
    public BroadcastTimeoutException()
        : this([], 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BroadcastTimeoutException(string message)
        : base(message)
    {
        Responses = [];
    }

    /// <summary>Creates the exception.</summary>
    public BroadcastTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
        Responses = [];
    }

    /// <summary>The responses received before the timeout.</summary>
    public IReadOnlyList<AckResponse> Responses { get; }

    /// <summary>How many clients the broadcast reached.</summary>
    public int Expected { get; }
}

/// <summary>The socket disconnected while an acknowledgement was awaited.</summary>
public class SocketDisconnectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SocketDisconnectedException()
        : base("The socket has been disconnected.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public SocketDisconnectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SocketDisconnectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// <see cref="Socket.Join(string)"/> would put the socket in more rooms than <see cref="SocketIOOptions.MaxRoomsPerSocket"/>;
/// the socket's rooms are unchanged.
/// </summary>
public class RoomLimitExceededException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public RoomLimitExceededException(string socketId, int limit)
        : base($"Socket {socketId} cannot join more than {limit} rooms (SocketIOOptions.MaxRoomsPerSocket).")
    {
        Limit = limit;
    }

    /// <summary>Creates the exception.</summary>
    public RoomLimitExceededException()
        : base("Room limit exceeded (SocketIOOptions.MaxRoomsPerSocket).")
    {
    }

    /// <summary>Creates the exception.</summary>
    public RoomLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The limit that was hit.</summary>
    public int Limit { get; }
}
