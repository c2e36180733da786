namespace Herald.Redis;

/// <summary>Redis could not be reached, or the connection dropped before the reply.</summary>
public sealed class RedisConnectionException : Herald.Messaging.MessageBusException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The StackExchange.Redis exception.</param>
    public RedisConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Redis answered a command with an error reply (<c>-ERR ...</c>).</summary>
public sealed class RedisServerException : Herald.Messaging.MessageBusException
{
    /// <summary>Creates the exception.</summary>
    public RedisServerException()
    {
    }

    /// <summary>Creates the exception with the server's error text.</summary>
    /// <param name="message">The server's error.</param>
    public RedisServerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The server's error.</param>
    /// <param name="innerException">The StackExchange.Redis exception.</param>
    public RedisServerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
