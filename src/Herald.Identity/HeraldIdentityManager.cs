using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Herald.Identity;

/// <summary>
/// Gives connections the identity their connection token proves. Socket.IO: a middleware on
/// <see cref="HeraldIdentityOptions.Namespaces"/> reads <c>auth.token</c> (else <c>Authorization: Bearer</c>, else the
/// cookie <see cref="HeraldIdentityOptions.CookieName"/>), refuses a bad token with CONNECT_ERROR
/// <c>{message, data: {message, code}}</c>, and puts the socket in its user's room and its channels' rooms before the
/// client sees <c>connect</c>. SSE: the same from <c>?token=</c> (401 on refusal). Expiry: see
/// <see cref="HeraldIdentityOptions.RefreshGrace"/>.
/// </summary>
public sealed partial class HeraldIdentityManager : IHostedService, IDisposable
{
    /// <summary>The event of the refresh exchange (server asks with an ack; client may also send it with <c>{token}</c>).</summary>
    public const string RefreshEventName = "herald:refresh";

    /// <summary>The event a client emits with <c>{channel, token}</c> (a channel token) to receive a channel.</summary>
    public const string ChannelSubscribeEventName = "herald:channel:subscribe";

    /// <summary>The event a client emits with <c>{channel, event, data}</c> to publish into a channel (needs <see cref="HeraldProxyOptions.PublishUrl"/>).</summary>
    public const string ChannelPublishEventName = "herald:channel:publish";

    /// <summary>The event a client emits with <c>{channel}</c> to stop receiving a channel it subscribed to.</summary>
    public const string ChannelUnsubscribeEventName = "herald:channel:unsubscribe";

    private readonly IServiceProvider? _services;
    private readonly ILogger _logger;
    private readonly BackendProxy? _proxy;

    /// <summary>Creates the manager.</summary>
    /// <param name="validator">The token validator.</param>
    /// <param name="services">Services, to find the Socket.IO and SSE servers at start (optional).</param>
    /// <param name="logger">The logger.</param>
    public HeraldIdentityManager(ConnectionTokenValidator validator, IServiceProvider? services = null, ILogger<HeraldIdentityManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        Validator = validator;
        _services = services;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var proxy = validator.Options.Proxy;
        if (proxy.ConnectUrl is not null || proxy.SubscribeUrl is not null || proxy.PublishUrl is not null)
        {
            _proxy = new BackendProxy(validator.Options, _logger);
        }
    }

    /// <summary>The token validator.</summary>
    public ConnectionTokenValidator Validator { get; }

    /// <summary>The options.</summary>
    public HeraldIdentityOptions Options => Validator.Options;

    /// <summary>Hooks the Socket.IO and SSE servers found in the services, and listens to the other nodes' user commands.</summary>
    /// <param name="cancellationToken">Cancels the bus subscription.</param>
    /// <returns>A task completing once subscribed.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_services?.GetService<SocketIOServer>() is { } io)
        {
            Attach(io);
        }

        if (_services?.GetService<SseServer>() is { } sse)
        {
            Attach(sse);
        }

        await StartBusAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops listening to the other nodes' commands.</summary>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A task completing once unsubscribed.</returns>
    public Task StopAsync(CancellationToken cancellationToken) => StopBusAsync();

    /// <summary>Checks the connections of <see cref="HeraldIdentityOptions.Namespaces"/> (also sockets restored by connection-state recovery: their token is checked again).</summary>
    /// <param name="io">The Socket.IO server.</param>
    public void Attach(SocketIOServer io)
    {
        ArgumentNullException.ThrowIfNull(io);
        foreach (var ns in Options.Namespaces)
        {
            io.Of(ns).Use(AuthenticateSocketAsync, runsOnRecovery: true);
            if (Options.PresenceEvents)
            {
                io.Of(ns).OnConnection(socket =>
                {
                    if (socket.GetHeraldIdentity() is { } identity)
                    {
                        AnnouncePresence(JoinEventName, identity.UserId, [.. ChannelsOf(socket.Rooms)]);
                    }

                    return Task.CompletedTask;
                });
            }
        }
    }

    /// <summary>A refusal as CONNECT_ERROR data (<c>err.data</c> in socket.io-client).</summary>
    /// <param name="Message">What went wrong.</param>
    /// <param name="Code">One of <see cref="TokenErrorCodes"/>.</param>
    public sealed record ConnectErrorData(string Message, string Code);

    private async Task AuthenticateSocketAsync(Socket socket, Func<Task> next)
    {
        var token = ReadSocketToken(socket.Handshake);
        string? userId = null;
        IReadOnlyList<string> channels = [];
        DateTimeOffset? expiresAt = null;
        if (token is not null)
        {
            var outcome = await Validator.ValidateConnectionTokenAsync(token).ConfigureAwait(false);
            if (!outcome.IsValid)
            {
                throw Refuse("socket.io", outcome.ErrorCode!, outcome.ErrorMessage!);
            }

            (userId, channels, expiresAt) = (outcome.UserId, outcome.Channels, outcome.ExpiresAt);
        }
        else if (_proxy is not null && Options.Proxy.ConnectUrl is not null)
        {
            var answer = await _proxy.ConnectAsync("socket.io", socket.Namespace.Name, Forwarded(socket.Handshake.Headers), default).ConfigureAwait(false);
            if (!answer.IsAllowed)
            {
                throw Refuse("socket.io", answer.ErrorCode!, answer.ErrorMessage!);
            }

            if (answer.Channels.Count > Options.MaxChannelsPerToken)
            {
                throw Refuse("socket.io", ProxyErrorCodes.BadAnswer, "The application's answer lists too many channels.");
            }

            (userId, channels) = (answer.UserId, answer.Channels);
        }
        else if (Options.Required)
        {
            throw Refuse("socket.io", TokenErrorCodes.Required, "A connection token is required.");
        }

        await next().ConfigureAwait(false);
        if (userId is null)
        {
            socket.On(ChannelSubscribeEventName, (SocketEvent e) => OnChannelSubscribeAsync(e, null));
            socket.On(ChannelUnsubscribeEventName, (SocketEvent e) => OnChannelUnsubscribeAsync(e));
            socket.On(ChannelPublishEventName, (SocketEvent e) => OnChannelPublishAsync(e, null));
            return;
        }

        var identity = new HeraldConnectionIdentity(userId, channels, expiresAt);
        socket.Data[HeraldIdentitySocketExtensions.SocketDataKey] = identity;
        var rooms = new List<string>(channels.Count + 2) { HeraldRooms.User(identity.UserId), IdentityRoom(identity.UserId) };
        foreach (var channel in channels)
        {
            rooms.Add(HeraldRooms.Channel(channel));
        }

        await socket.Join(rooms).ConfigureAwait(false);
        var expiry = new SocketExpiry(this, socket, identity);
        socket.OnDisconnect(_ => expiry.Dispose());
        socket.On(RefreshEventName, (SocketEvent e) => expiry.OnClientRefreshAsync(e));
        socket.On(ChannelSubscribeEventName, (SocketEvent e) => OnChannelSubscribeAsync(e, identity));
        socket.On(ChannelUnsubscribeEventName, (SocketEvent e) => OnChannelUnsubscribeAsync(e));
        socket.On(ChannelPublishEventName, (SocketEvent e) => OnChannelPublishAsync(e, identity));
        expiry.Schedule();
        if (Options.PresenceEvents)
        {
            // The join is announced once the socket is connected (Attach's connection handler), so it reaches it too.
            socket.OnDisconnecting(_ => AnnouncePresence(LeaveEventName, identity.UserId, [.. ChannelsOf(socket.Rooms)]));
        }

        IdentityLog.Identified(_logger, socket.Id, identity.UserId, channels.Count);
    }

    private ConnectionRejectedException Refuse(string transport, string code, string message)
    {
        IdentityLog.TokenRefused(_logger, transport, code);
        return new ConnectionRejectedException(message, new ConnectErrorData(message, code));
    }

    /// <summary>The request headers that <see cref="HeraldProxyOptions.ForwardHeaders"/> lets through to the connect proxy.</summary>
    private Dictionary<string, string> Forwarded(Microsoft.AspNetCore.Http.IHeaderDictionary headers)
    {
        var forwarded = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Options.Proxy.ForwardHeaders)
        {
            if (headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value))
            {
                var text = string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase) ? FilterCookies(value) : value.ToString();
                if (text.Length > 0)
                {
                    forwarded[name] = text;
                }
            }
        }

        return forwarded;
    }

    private string? ReadSocketToken(Handshake handshake)
    {
        if (handshake.Auth.ValueKind == JsonValueKind.Object && handshake.Auth.TryGetProperty("token"u8, out var token))
        {
            // A present but non-string token is a bad token, not an absent one.
            return token.ValueKind == JsonValueKind.String ? token.GetString() ?? "" : "";
        }

        return ReadHeaderOrCookie(handshake.Headers.Authorization, handshake.Headers.Cookie);
    }

    private string? ReadHeaderOrCookie(StringValues authorization, StringValues cookies)
    {
        foreach (var value in authorization)
        {
            if (value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return value["Bearer ".Length..].Trim();
            }
        }

        if (Options.CookieName is { } name)
        {
            foreach (var header in cookies)
            {
                if (FindCookie(header, name) is { } token)
                {
                    return token;
                }
            }
        }

        return null;
    }

    /// <summary>Keeps the cookies of <see cref="HeraldProxyOptions.ForwardCookies"/> (or all but the hub's own <c>herald.*</c>).</summary>
    private string FilterCookies(StringValues headers)
    {
        var allowed = Options.Proxy.ForwardCookies;
        var kept = new List<string>();
        foreach (var header in headers)
        {
            foreach (var part in (header ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var name = eq > 0 ? part[..eq].Trim() : part;
                if (allowed.Count > 0 ? allowed.Contains(name) : !name.StartsWith("herald.", StringComparison.Ordinal))
                {
                    kept.Add(part);
                }
            }
        }

        return string.Join("; ", kept);
    }

    private static string? FindCookie(string? header, string name)
    {
        var rest = header.AsSpan();
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf(';');
            var pair = (end < 0 ? rest : rest[..end]).Trim();
            rest = end < 0 ? default : rest[(end + 1)..];
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].Trim().SequenceEqual(name))
            {
                return pair[(eq + 1)..].Trim().Trim('"').ToString();
            }
        }

        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeSse();
        _proxy?.Dispose();
        Validator.Dispose();
    }

    /// <summary>
    /// One socket's token lifetime. At <c>exp</c> it emits <c>herald:refresh</c> <c>{expiresAt, deadline}</c> (unix
    /// ms) with an acknowledgement and arms the deadline; a valid token for the same user, in that ack or in a
    /// <c>herald:refresh</c> <c>{token}</c> the client emits, moves the expiry on. At the deadline the socket is
    /// disconnected.
    /// </summary>
    private sealed class SocketExpiry : IDisposable
    {
        private readonly HeraldIdentityManager _manager;
        private readonly Socket _socket;
        private readonly HeraldConnectionIdentity _identity;
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private bool _awaitingRefresh;
        private bool _disposed;

        public SocketExpiry(HeraldIdentityManager manager, Socket socket, HeraldConnectionIdentity identity)
        {
            _manager = manager;
            _socket = socket;
            _identity = identity;
        }

        public void Schedule()
        {
            var time = _manager.Options.TimeProvider;
            lock (_lock)
            {
                _timer?.Dispose();
                _timer = null;
                _awaitingRefresh = false;
                if (_disposed || _identity.ExpiresAt is not { } expires)
                {
                    return;
                }

                var due = expires - time.GetUtcNow();
                _timer = time.CreateTimer(static s => ((SocketExpiry)s!).OnExpired(), this, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
            }
        }

        private void OnExpired()
        {
            var options = _manager.Options;
            var time = options.TimeProvider;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                if (_awaitingRefresh)
                {
                    // The deadline passed without a valid new token.
                    _disposed = true;
                    _timer?.Dispose();
                    _timer = null;
                    IdentityLog.RefreshMissed(_manager._logger, _socket.Id);
                    _socket.Disconnect();
                    return;
                }

                _awaitingRefresh = true;
                _timer?.Dispose();
                _timer = time.CreateTimer(static s => ((SocketExpiry)s!).OnExpired(), this, options.RefreshGrace, Timeout.InfiniteTimeSpan);
            }

            var deadline = time.GetUtcNow() + options.RefreshGrace;
            _ = AskAsync(_identity.ExpiresAt, deadline);
        }

        private async Task AskAsync(DateTimeOffset? expiresAt, DateTimeOffset deadline)
        {
            try
            {
                var answer = await _socket.Timeout(_manager.Options.RefreshGrace)
                    .EmitWithAckAsync(RefreshEventName, new RefreshRequest(expiresAt?.ToUnixTimeMilliseconds(), deadline.ToUnixTimeMilliseconds()))
                    .ConfigureAwait(false);
                if (answer.Args.Count > 0 && ReadToken(answer.Args[0]) is { } token)
                {
                    await RefreshAsync(token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or InvalidOperationException)
            {
                // No answer: the deadline timer disconnects.
            }
        }

        public async ValueTask OnClientRefreshAsync(SocketEvent e)
        {
            var token = e.Args.Count > 0 ? ReadToken(e.Args[0]) : null;
            var outcome = token is null
                ? TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, "Send {token}.")
                : await RefreshAsync(token).ConfigureAwait(false);
            if (e.HasAck)
            {
                e.Ack(outcome.IsValid
                    ? new RefreshAck(true, null, _identity.ExpiresAt?.ToUnixTimeMilliseconds())
                    : new RefreshAck(false, outcome.ErrorCode, null));
            }
        }

        private async ValueTask<TokenValidationOutcome> RefreshAsync(string token)
        {
            var outcome = await _manager.Validator.ValidateConnectionTokenAsync(token).ConfigureAwait(false);
            if (!outcome.IsValid)
            {
                return outcome;
            }

            if (outcome.UserId != _identity.UserId)
            {
                return TokenValidationOutcome.Fail(TokenErrorCodes.UserMismatch, "The new token names another user.");
            }

            _identity.ExpiresAt = outcome.ExpiresAt;
            Schedule();
            return outcome;
        }

        private static string? ReadToken(JsonElement arg)
            => arg.ValueKind == JsonValueKind.Object && arg.TryGetProperty("token"u8, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : arg.ValueKind == JsonValueKind.String ? arg.GetString() : null;

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    private sealed record RefreshRequest(long? ExpiresAt, long Deadline);

    private sealed record RefreshAck(bool Ok, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Error, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? ExpiresAt);
}
