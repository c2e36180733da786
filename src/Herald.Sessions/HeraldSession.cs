namespace Herald.Sessions;

/// <summary>
/// A browser's session (SocketStream's <c>req.session</c>): every tab of the browser shares it, and its channels
/// and user id live in the <see cref="ISessionStore"/>, so a new tab, a reload, or a reconnect to another node is
/// re-subscribed automatically. Get one from <c>socket.GetHeraldSession()</c>, <c>httpContext.GetHeraldSession()</c> or
/// <see cref="HeraldSessionManager.Get"/>.
/// </summary>
/// <remarks>The object is a cheap handle (id plus manager): changes go to the store and to every socket and
/// EventSource of the session on every node.</remarks>
public sealed class HeraldSession
{
    private readonly HeraldSessionManager _manager;

    internal HeraldSession(HeraldSessionManager manager, string id)
    {
        _manager = manager;
        Id = id;
        Channels = new SessionChannels(manager, id);
    }

    /// <summary>The session id (the cookie value, or what <see cref="HeraldSessionOptions.SessionIdFromUser"/> returned).</summary>
    public string Id { get; }

    /// <summary>The session's private channels (<c>req.session.channel</c>).</summary>
    public SessionChannels Channels { get; }

    /// <summary>Reads the signed-in user id, or <c>null</c>.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The user id.</returns>
    public async ValueTask<string?> GetUserIdAsync(CancellationToken cancellationToken = default)
        => (await _manager.Store.LoadAsync(Id, cancellationToken).ConfigureAwait(false)).UserId;

    /// <summary>
    /// Signs the session in as <paramref name="userId"/> (<c>Publish.User</c> then reaches its clients), or out with
    /// <c>null</c>: user-addressed events stop for this session only; the user's other sessions keep them.
    /// </summary>
    /// <param name="userId">The user id, or <c>null</c>.</param>
    /// <param name="cancellationToken">Cancels before the store write.</param>
    /// <returns>A task completing once stored and applied to this node's clients of the session.</returns>
    public ValueTask SetUserIdAsync(string? userId, CancellationToken cancellationToken = default)
        => _manager.ChangeAsync(Id, SessionChangeOp.User, userId is null ? [] : [userId], cancellationToken);

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>A session's channels: <c>Subscribe</c>, <c>Unsubscribe</c>, <c>Reset</c>, <c>List</c>.</summary>
public sealed class SessionChannels
{
    private readonly HeraldSessionManager _manager;
    private readonly string _id;

    internal SessionChannels(HeraldSessionManager manager, string id)
    {
        _manager = manager;
        _id = id;
    }

    /// <summary>Subscribes the session to one or more channels (created on first use).</summary>
    /// <param name="channels">The channel names.</param>
    /// <returns>A task completing once stored and applied to this node's clients of the session (other nodes follow through the bus).</returns>
    public ValueTask SubscribeAsync(params string[] channels) => _manager.ChangeAsync(_id, SessionChangeOp.Subscribe, channels, default);

    /// <summary>Unsubscribes the session from one or more channels.</summary>
    /// <param name="channels">The channel names.</param>
    /// <returns>A task completing once stored and applied locally.</returns>
    public ValueTask UnsubscribeAsync(params string[] channels) => _manager.ChangeAsync(_id, SessionChangeOp.Unsubscribe, channels, default);

    /// <summary>Unsubscribes the session from every channel.</summary>
    /// <returns>A task completing once stored and applied locally.</returns>
    public ValueTask ResetAsync() => _manager.ChangeAsync(_id, SessionChangeOp.Reset, [], default);

    /// <summary>The channels the session is subscribed to.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The channel names, sorted.</returns>
    public async ValueTask<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default)
    {
        var state = await _manager.Store.LoadAsync(_id, cancellationToken).ConfigureAwait(false);
        var list = state.Channels.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
