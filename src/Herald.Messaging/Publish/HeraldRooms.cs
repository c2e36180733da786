namespace Herald.Messaging.Publish;

/// <summary>
/// The reserved room (Socket.IO) and topic (SSE) names that carry sessions, channels, users and typed-message
/// subscriptions. Delivery reuses the ordinary broadcast paths: <c>Publish.Channel("disney")</c> is a broadcast to room
/// <c>herald:ch:disney</c>, which every socket and EventSource of a session subscribed to <c>disney</c> is in.
/// </summary>
/// <remarks>
/// Application code should not join these rooms itself; the session layer (Herald.Sessions) keeps them in step with
/// the session store. The prefix <c>herald:</c> is reserved.
/// </remarks>
public static class HeraldRooms
{
    /// <summary>The prefix of every reserved room.</summary>
    public const string Prefix = "herald:";

    /// <summary>The prefix of session rooms (<c>herald:s:{sessionId}</c>).</summary>
    public const string SessionPrefix = "herald:s:";

    /// <summary>The prefix of channel rooms (<c>herald:ch:{channel}</c>).</summary>
    public const string ChannelPrefix = "herald:ch:";

    /// <summary>The prefix of user rooms (<c>herald:u:{userId}</c>).</summary>
    public const string UserPrefix = "herald:u:";

    /// <summary>The prefix of typed-message rooms (<c>herald:m:{sourceType}:{messageType}:{sourceKey}</c>).</summary>
    public const string MessagePrefix = "herald:m:";

    /// <summary>The longest channel name, user id or session id accepted (default 200 characters).</summary>
    public const int MaxNameLength = 200;

    /// <summary>The room of every socket of session <paramref name="sessionId"/>.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <returns>The room name.</returns>
    public static string Session(string sessionId) => SessionPrefix + Validate(sessionId, nameof(sessionId));

    /// <summary>The room of channel <paramref name="channel"/>.</summary>
    /// <param name="channel">The channel name.</param>
    /// <returns>The room name.</returns>
    public static string Channel(string channel) => ChannelPrefix + Validate(channel, nameof(channel));

    /// <summary>The room of every session signed in as <paramref name="userId"/>.</summary>
    /// <param name="userId">The user id.</param>
    /// <returns>The room name.</returns>
    public static string User(string userId) => UserPrefix + Validate(userId, nameof(userId));

    /// <summary>The room of the subscribers of messages of type <paramref name="messageType"/> from <paramref name="source"/>.</summary>
    /// <param name="source">The source.</param>
    /// <param name="messageType">The message type name.</param>
    /// <returns>The room name.</returns>
    public static string Message(MessageSource source, string messageType)
    {
        if (!MessageSource.IsValidTypeName(messageType))
        {
            throw new ArgumentException($"'{messageType}' is not a valid message type name (1 to 128 letters, digits or _.-).", nameof(messageType));
        }

        return MessagePrefix + source.Type + ":" + messageType + ":" + source.Key;
    }

    /// <summary>True when <paramref name="name"/> can be a channel, user or session id: 1 to <see cref="MaxNameLength"/> characters, no control character.</summary>
    /// <param name="name">The name.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Validate(string name, string paramName)
        => IsValidName(name) ? name : throw new ArgumentException($"A name is 1 to {MaxNameLength} characters with no control character.", paramName);
}
