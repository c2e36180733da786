using Herald.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Herald.Sessions.Redis;

/// <summary>
/// An <see cref="ISessionStore"/> in Redis, so that a client reconnecting to any node of a cluster finds its session's
/// channels and user again.
/// </summary>
/// <remarks>
/// Keys (prefix <c>herald:session</c>): <c>{prefix}:{sid}:ch</c>, a SET of channel names, and <c>{prefix}:{sid}:u</c>,
/// the user id string. Every operation is one atomic command plus <c>PEXPIRE</c> of both keys to
/// <see cref="HeraldSessionOptions.Expiry"/> (sliding), pipelined on the multiplexer shared with the bus
/// (<see cref="IHeraldRedisConnection"/>). Reads are <c>SMEMBERS</c> and <c>GET</c>. While Redis is unreachable an
/// operation fails at once with <see cref="Herald.Redis.RedisConnectionException"/>.
/// </remarks>
public sealed class RedisSessionStore : ISessionStore
{
    private readonly IHeraldRedisConnection _connection;
    private readonly string _prefix;
    private readonly TimeSpan _expiry;

    /// <summary>Creates the store on a (shared) Redis connection.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="options">The store options.</param>
    /// <param name="sessionOptions">The session options (expiry).</param>
    public RedisSessionStore(IHeraldRedisConnection connection, IOptions<RedisSessionStoreOptions> options, IOptions<HeraldSessionOptions>? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        var expiry = sessionOptions?.Value.Expiry ?? new HeraldSessionOptions().Expiry;
        ArgumentOutOfRangeException.ThrowIfLessThan(expiry, TimeSpan.FromMilliseconds(1), nameof(sessionOptions));
        _connection = connection;
        _prefix = options.Value.KeyPrefix;
        _expiry = expiry;
    }

    /// <inheritdoc />
    public async ValueTask<SessionState> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var members = db.SetMembersAsync(ChannelsKey(sessionId));
            var user = db.StringGetAsync(UserKey(sessionId));
            var touch = TouchAsync(db, sessionId);
            await Task.WhenAll(members, user, touch).ConfigureAwait(false);
            var items = await members.ConfigureAwait(false);
            var channels = new string[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                channels[i] = items[i].ToString();
            }

            var userId = await user.ConfigureAwait(false);
            return new SessionState(channels, userId.IsNull ? null : userId.ToString());
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            throw Translate(e);
        }
    }

    /// <inheritdoc />
    public ValueTask AddChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
        => ChangeAsync(sessionId, channels, add: true, cancellationToken);

    /// <inheritdoc />
    public ValueTask RemoveChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
        => ChangeAsync(sessionId, channels, add: false, cancellationToken);

    private async ValueTask ChangeAsync(string sessionId, IReadOnlyList<string> channels, bool add, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (channels.Count > 0)
            {
                var values = new RedisValue[channels.Count];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = channels[i];
                }

                await (add ? db.SetAddAsync(ChannelsKey(sessionId), values) : db.SetRemoveAsync(ChannelsKey(sessionId), values)).ConfigureAwait(false);
            }

            await TouchAsync(db, sessionId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            throw Translate(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask ClearChannelsAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await db.KeyDeleteAsync(ChannelsKey(sessionId)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            throw Translate(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask SetUserIdAsync(string sessionId, string? userId, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (userId is null)
            {
                await db.KeyDeleteAsync(UserKey(sessionId)).ConfigureAwait(false);
            }
            else
            {
                await db.StringSetAsync(UserKey(sessionId), userId, _expiry).ConfigureAwait(false);
            }

            await TouchAsync(db, sessionId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            throw Translate(e);
        }
    }

    private async ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
        => (_connection.Multiplexer ?? await _connection.GetMultiplexerAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();

    private Task TouchAsync(IDatabase db, string sessionId)
        => Task.WhenAll(db.KeyExpireAsync(ChannelsKey(sessionId), _expiry), db.KeyExpireAsync(UserKey(sessionId), _expiry));

    private static Exception Translate(Exception e) => e is StackExchange.Redis.RedisServerException
        ? new Herald.Redis.RedisServerException(e.Message, e)
        : new Herald.Redis.RedisConnectionException(e.Message, e);

    private string ChannelsKey(string sessionId) => _prefix + ":" + sessionId + ":ch";

    private string UserKey(string sessionId) => _prefix + ":" + sessionId + ":u";
}

/// <summary>Settings of <see cref="RedisSessionStore"/>.</summary>
public sealed class RedisSessionStoreOptions
{
    /// <summary>The key prefix (default <c>herald:session</c>).</summary>
    public string KeyPrefix { get; set; } = "herald:session";
}
