using Herald.Redis;
using Herald.Redis.Internal;
using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Sessions.Redis;

/// <summary>
/// An <see cref="ISessionStore"/> in Redis, so that a client reconnecting to any node of a cluster finds its session's
/// channels and user again.
/// </summary>
/// <remarks>
/// Keys (prefix <c>herald:session</c>): <c>{prefix}:{sid}:ch</c>, a SET of channel names, and <c>{prefix}:{sid}:u</c>,
/// the user id string. Every operation is one atomic command plus <c>PEXPIRE</c> of both keys to
/// <see cref="HeraldSessionOptions.Expiry"/> (sliding), pipelined on one multiplexed connection. Reads are
/// <c>SMEMBERS</c> and <c>GET</c>.
/// </remarks>
public sealed class RedisSessionStore : ISessionStore, IAsyncDisposable
{
    private readonly RedisCommandConnection _commands;
    private readonly string _prefix;
    private readonly long _expiryMs;

    /// <summary>Creates the store and starts connecting in the background.</summary>
    /// <param name="options">The store options.</param>
    /// <param name="sessionOptions">The session options (expiry).</param>
    /// <param name="loggerFactory">Logging, or <c>null</c>.</param>
    public RedisSessionStore(IOptions<RedisSessionStoreOptions> options, IOptions<HeraldSessionOptions>? sessionOptions = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        var expiry = sessionOptions?.Value.Expiry ?? new HeraldSessionOptions().Expiry;
        ArgumentOutOfRangeException.ThrowIfLessThan(expiry, TimeSpan.FromMilliseconds(1), nameof(sessionOptions));
        _prefix = o.KeyPrefix;
        _expiryMs = (long)expiry.TotalMilliseconds;
        loggerFactory ??= NullLoggerFactory.Instance;
        _commands = new RedisCommandConnection(o.Connection, loggerFactory.CreateLogger("Herald.Redis.RedisConnection"));
        _commands.Start();
    }

    /// <inheritdoc />
    public async ValueTask<SessionState> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var members = _commands.ExecuteAsync(["SMEMBERS", ChannelsKey(sessionId)], cancellationToken).AsTask();
        var user = _commands.ExecuteAsync(["GET", UserKey(sessionId)], cancellationToken).AsTask();
        var touch = TouchAsync(sessionId, cancellationToken);
        await Task.WhenAll(members, user, touch).ConfigureAwait(false);
        var items = (await members.ConfigureAwait(false)).Items ?? [];
        var channels = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            channels[i] = items[i].AsString() ?? "";
        }

        var userResult = await user.ConfigureAwait(false);
        return new SessionState(channels, userResult.IsNull ? null : userResult.AsString());
    }

    /// <inheritdoc />
    public async ValueTask AddChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        if (channels.Count > 0)
        {
            await _commands.ExecuteAsync(SetCommand("SADD", sessionId, channels), cancellationToken).ConfigureAwait(false);
        }

        await TouchAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask RemoveChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        if (channels.Count > 0)
        {
            await _commands.ExecuteAsync(SetCommand("SREM", sessionId, channels), cancellationToken).ConfigureAwait(false);
        }

        await TouchAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask ClearChannelsAsync(string sessionId, CancellationToken cancellationToken = default)
        => await _commands.ExecuteAsync(["DEL", ChannelsKey(sessionId)], cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask SetUserIdAsync(string sessionId, string? userId, CancellationToken cancellationToken = default)
    {
        if (userId is null)
        {
            await _commands.ExecuteAsync(["DEL", UserKey(sessionId)], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _commands.ExecuteAsync(["SET", UserKey(sessionId), userId, "PX", _expiryMs], cancellationToken).ConfigureAwait(false);
        }

        await TouchAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _commands.DisposeAsync();

    private Task TouchAsync(string sessionId, CancellationToken cancellationToken)
        => Task.WhenAll(
            _commands.ExecuteAsync(["PEXPIRE", ChannelsKey(sessionId), _expiryMs], cancellationToken).AsTask(),
            _commands.ExecuteAsync(["PEXPIRE", UserKey(sessionId), _expiryMs], cancellationToken).AsTask());

    private RedisArgument[] SetCommand(string command, string sessionId, IReadOnlyList<string> channels)
    {
        var args = new RedisArgument[channels.Count + 2];
        args[0] = command;
        args[1] = ChannelsKey(sessionId);
        for (var i = 0; i < channels.Count; i++)
        {
            args[i + 2] = channels[i];
        }

        return args;
    }

    private string ChannelsKey(string sessionId) => _prefix + ":" + sessionId + ":ch";

    private string UserKey(string sessionId) => _prefix + ":" + sessionId + ":u";
}

/// <summary>Settings of <see cref="RedisSessionStore"/>.</summary>
public sealed class RedisSessionStoreOptions
{
    /// <summary>The Redis connection.</summary>
    public RedisConnectionOptions Connection { get; set; } = new();

    /// <summary>The key prefix (default <c>herald:session</c>).</summary>
    public string KeyPrefix { get; set; } = "herald:session";
}
