namespace Herald.Sessions;

/// <summary>
/// Where sessions live: their channels and user id, with a sliding expiry. In memory by default
/// (<see cref="InMemorySessionStore"/>, one process); in Redis for a cluster (Herald.Sessions.Redis), so that a
/// client reconnecting to another node finds its channels again.
/// </summary>
/// <remarks>Every operation is atomic on its own and refreshes the expiry; a session that does not exist is empty.</remarks>
public interface ISessionStore
{
    /// <summary>Reads a session (empty when unknown) and refreshes its expiry.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state.</returns>
    ValueTask<SessionState> LoadAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Adds channels to a session.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="channels">The channels.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task completing once stored.</returns>
    ValueTask AddChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default);

    /// <summary>Removes channels from a session.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="channels">The channels.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task completing once stored.</returns>
    ValueTask RemoveChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default);

    /// <summary>Removes every channel of a session.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task completing once stored.</returns>
    ValueTask ClearChannelsAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Sets (or with <c>null</c> clears) the user id of a session.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="userId">The user id, or <c>null</c> on sign-out.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task completing once stored.</returns>
    ValueTask SetUserIdAsync(string sessionId, string? userId, CancellationToken cancellationToken = default);
}

/// <summary>What a store holds for one session.</summary>
/// <param name="Channels">The channels, in no particular order.</param>
/// <param name="UserId">The signed-in user, or <c>null</c>.</param>
public sealed record SessionState(IReadOnlyList<string> Channels, string? UserId)
{
    /// <summary>A session with no channel and no user.</summary>
    public static SessionState Empty { get; } = new([], null);
}
