using Herald.SocketIO;

namespace Herald.Identity;

/// <summary>
/// Who a connection is, as its connection token said: the user id and the channels it receives, for as long as the
/// token (or its refreshed successor) is valid. It belongs to the connection, not to the browser's session: another
/// tab without a token is anonymous, and an expired connection loses it.
/// </summary>
public sealed class HeraldConnectionIdentity
{
    internal HeraldConnectionIdentity(string userId, IReadOnlyList<string> channels, DateTimeOffset? expiresAt)
    {
        UserId = userId;
        Channels = channels;
        ExpiresAt = expiresAt;
    }

    /// <summary>The user id (the token's <c>sub</c>): <c>Publish.User</c> reaches this connection.</summary>
    public string UserId { get; }

    /// <summary>The channels from the token's <c>channels</c> claim: <c>Publish.Channel</c> reaches this connection.</summary>
    public IReadOnlyList<string> Channels { get; }

    /// <summary>When the current token expires (<c>null</c>: never).</summary>
    public DateTimeOffset? ExpiresAt { get; internal set; }
}

/// <summary>Reads the <see cref="HeraldConnectionIdentity"/> of a socket.</summary>
public static class HeraldIdentitySocketExtensions
{
    /// <summary>The key of the identity in <see cref="Socket.Data"/>.</summary>
    public const string SocketDataKey = "herald:identity";

    /// <summary>The identity of a socket that connected with a valid token, or <c>null</c> (anonymous).</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The identity, or <c>null</c>.</returns>
    public static HeraldConnectionIdentity? GetHeraldIdentity(this Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return socket.Data.TryGetValue(SocketDataKey, out var value) ? value as HeraldConnectionIdentity : null;
    }
}
