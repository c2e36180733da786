using System.Collections.Concurrent;
using System.Security.Cryptography;
using Herald.Messaging.Publish;
using Herald.Sse;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Identity;

public sealed partial class HeraldIdentityManager
{
    /// <summary>
    /// The prefix of the one topic each token-bearing EventSource connection gets, <c>herald:t:{random}</c>: it ties the
    /// SSE client (known only once connected) to the token checked before (whose expiry it must follow).
    /// </summary>
    internal const string SseTokenTopicPrefix = "herald:t:";

    private readonly ConcurrentDictionary<string, SseExpiry> _sseExpiries = new(StringComparer.Ordinal);
    private SseServer? _sse;

    /// <summary>Follows the token expiry of <paramref name="sse"/>'s clients (the token itself is checked by the <see cref="SseOptions.Authorize"/> hook that <c>AddHeraldIdentity</c> installs).</summary>
    /// <param name="sse">The SSE server.</param>
    public void Attach(SseServer sse)
    {
        ArgumentNullException.ThrowIfNull(sse);
        if (Interlocked.CompareExchange(ref _sse, sse, null) is null)
        {
            sse.ClientConnected += OnSseConnected;
            sse.ClientDisconnected += OnSseDisconnected;
        }
    }

    private void DisposeSse()
    {
        if (Interlocked.Exchange(ref _sse, null) is { } sse)
        {
            sse.ClientConnected -= OnSseConnected;
            sse.ClientDisconnected -= OnSseDisconnected;
        }

        foreach (var entry in _sseExpiries.Values)
        {
            entry.Dispose();
        }

        _sseExpiries.Clear();
    }

    /// <summary>
    /// The SSE side: reads <c>?token=</c> (else <c>Authorization: Bearer</c>, else the cookie), answers 401 with a
    /// <c>WWW-Authenticate: Bearer error="invalid_token", error_description="{code}: {message}"</c> on a bad token, then
    /// lets <paramref name="inner"/> decide and adds the user's and the token's channels' topics, plus the channels of
    /// valid <c>?channel=&amp;channelToken=</c> pairs (a bad pair is 403, a malformed one 400).
    /// </summary>
    internal async ValueTask<SseAuthorizationResult> AuthorizeSseAsync(HttpContext context, Func<HttpContext, ValueTask<SseAuthorizationResult>>? inner)
    {
        var query = context.Request.Query;
        var tokens = query[Options.QueryName];
        var channels = query[Options.ChannelQueryName];
        var channelTokens = query[Options.ChannelTokenQueryName];
        if (tokens.Count > 1 || (channelTokens.Count > 0 && channels.Count != channelTokens.Count) || channels.Count > Options.MaxChannelsPerConnection)
        {
            return SseAuthorizationResult.Reject(StatusCodes.Status400BadRequest);
        }

        var token = tokens.Count == 1 ? tokens[0] ?? "" : ReadHeaderOrCookie(context.Request.Headers.Authorization, context.Request.Headers.Cookie);
        string? userId = null;
        IReadOnlyList<string> granted = [];
        DateTimeOffset? expiresAt = null;
        if (token is not null)
        {
            var outcome = await Validator.ValidateConnectionTokenAsync(token, context.RequestAborted).ConfigureAwait(false);
            if (!outcome.IsValid)
            {
                return Unauthorized(context, outcome.ErrorCode!, outcome.ErrorMessage!);
            }

            (userId, granted, expiresAt) = (outcome.UserId, outcome.Channels, outcome.ExpiresAt);
        }
        else if (_proxy is not null && Options.Proxy.ConnectUrl is not null)
        {
            var answer = await _proxy.ConnectAsync("sse", null, Forwarded(context.Request.Headers), context.RequestAborted).ConfigureAwait(false);
            if (!answer.IsAllowed)
            {
                return Unauthorized(context, answer.ErrorCode!, answer.ErrorMessage!);
            }

            if (answer.Channels.Count > Options.MaxChannelsPerToken)
            {
                return Unauthorized(context, ProxyErrorCodes.BadAnswer, "The application's answer lists too many channels.");
            }

            (userId, granted) = (answer.UserId, answer.Channels);
        }
        else if (Options.Required)
        {
            return Unauthorized(context, TokenErrorCodes.Required, "A connection token is required.");
        }

        var topics = new List<string>(granted.Count + channels.Count + 2);
        if (userId is not null)
        {
            topics.Add(HeraldRooms.User(userId));
            topics.Add(IdentityRoom(userId));
        }

        foreach (var channel in granted)
        {
            topics.Add(HeraldRooms.Channel(channel));
        }

        for (var i = 0; i < channels.Count; i++)
        {
            var channel = channels[i];
            if (!HeraldRooms.IsValidName(channel))
            {
                return SseAuthorizationResult.Reject(StatusCodes.Status400BadRequest);
            }

            var error = await AuthorizeChannelAsync("sse", userId, channel!, channelTokens.Count > 0 ? channelTokens[i] ?? "" : null, context.RequestAborted).ConfigureAwait(false);
            if (error is not null)
            {
                return SseAuthorizationResult.Reject(StatusCodes.Status403Forbidden);
            }

            var room = HeraldRooms.Channel(channel!);
            if (!topics.Contains(room))
            {
                topics.Add(room);
            }
        }

        if (topics.Count > Options.MaxChannelsPerConnection + 2)
        {
            return SseAuthorizationResult.Reject(StatusCodes.Status400BadRequest);
        }

        var accepted = inner is null ? SseAuthorizationResult.Accept() : await inner(context).ConfigureAwait(false);
        if (!accepted.IsAccepted)
        {
            return accepted;
        }

        if (expiresAt is { } expires)
        {
            var marker = SseTokenTopicPrefix + NewMarker();
            _sseExpiries[marker] = new SseExpiry(this, marker, expires);
            topics.Add(marker);
        }

        if (accepted.Topics is { } own)
        {
            topics.AddRange(own);
        }

        return SseAuthorizationResult.Accept(accepted.ClientId, topics);
    }

    private SseAuthorizationResult Unauthorized(HttpContext context, string code, string message)
    {
        IdentityLog.TokenRefused(_logger, "sse", code);
        context.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{code}: {message}\"";
        return SseAuthorizationResult.Reject(StatusCodes.Status401Unauthorized);
    }

    private static string NewMarker()
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexString(bytes);
    }

    private void OnSseConnected(SseClient client)
    {
        TrackSse(client, connected: true);
        if (Options.PresenceEvents && UserOf(client.Topics) is { } user)
        {
            AnnouncePresence(JoinEventName, user, [.. ChannelsOf(client.Topics)]);
        }
        foreach (var topic in client.Topics)
        {
            if (topic.StartsWith(SseTokenTopicPrefix, StringComparison.Ordinal) && _sseExpiries.TryGetValue(topic, out var expiry))
            {
                expiry.Bind(client);
            }
        }
    }

    private void OnSseDisconnected(SseClient client, SseDisconnectReason reason)
    {
        TrackSse(client, connected: false);
        if (Options.PresenceEvents && UserOf(client.Topics) is { } user)
        {
            AnnouncePresence(LeaveEventName, user, [.. ChannelsOf(client.Topics)]);
        }
        // A resumed client keeps its topics: the next connection brings its own token, so this one's marker goes.
        foreach (var topic in client.Topics)
        {
            if (topic.StartsWith(SseTokenTopicPrefix, StringComparison.Ordinal))
            {
                if (_sseExpiries.TryRemove(topic, out var expiry))
                {
                    expiry.Dispose();
                }

                client.Leave(topic);
            }
        }
    }

    /// <summary>
    /// One EventSource connection's token lifetime: at <c>exp</c> the event <c>herald:refresh</c>
    /// <c>{expiresAt, deadline}</c> tells the page to open a new EventSource with a new token; at the deadline the
    /// connection is closed (its automatic reconnect carries the expired token and gets 401, which stops it).
    /// An entry whose client never connected goes at <c>exp</c>.
    /// </summary>
    private sealed class SseExpiry : IDisposable
    {
        private readonly HeraldIdentityManager _manager;
        private readonly string _marker;
        private readonly DateTimeOffset _expires;
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private SseClient? _client;
        private bool _asked;
        private bool _disposed;

        public SseExpiry(HeraldIdentityManager manager, string marker, DateTimeOffset expires)
        {
            _manager = manager;
            _marker = marker;
            _expires = expires;
            var time = manager.Options.TimeProvider;
            var due = expires - time.GetUtcNow();
            _timer = time.CreateTimer(static s => ((SseExpiry)s!).OnTimer(), this, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }

        public void Bind(SseClient client)
        {
            lock (_lock)
            {
                _client = client;
            }
        }

        private void OnTimer()
        {
            var options = _manager.Options;
            SseClient? client;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                client = _client;
                if (client is null || _asked)
                {
                    _disposed = true;
                    _timer?.Dispose();
                    _timer = null;
                }
                else
                {
                    _asked = true;
                    _timer?.Dispose();
                    _timer = options.TimeProvider.CreateTimer(static s => ((SseExpiry)s!).OnTimer(), this, options.RefreshGrace, Timeout.InfiniteTimeSpan);
                }
            }

            if (client is null)
            {
                _manager._sseExpiries.TryRemove(_marker, out _);
                return;
            }

            if (_asked && _disposed)
            {
                _manager._sseExpiries.TryRemove(_marker, out _);
                IdentityLog.RefreshMissed(_manager._logger, client.Id);
                client.Disconnect();
                return;
            }

            var deadline = options.TimeProvider.GetUtcNow() + options.RefreshGrace;
            client.Emit(RefreshEventName, new RefreshRequest(_expires.ToUnixTimeMilliseconds(), deadline.ToUnixTimeMilliseconds()));
        }

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
}

/// <summary>Installs <see cref="HeraldIdentityManager.AuthorizeSseAsync"/> around the application's <see cref="SseOptions.Authorize"/>.</summary>
internal sealed class SseIdentityOptionsSetup(IServiceProvider services) : IPostConfigureOptions<SseOptions>
{
    public void PostConfigure(string? name, SseOptions options)
    {
        var inner = options.Authorize;
        options.Authorize = context => ((HeraldIdentityManager)services.GetService(typeof(HeraldIdentityManager))!).AuthorizeSseAsync(context, inner);
    }
}
