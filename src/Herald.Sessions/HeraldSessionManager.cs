using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.Sse;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Sessions;

/// <summary>
/// The session layer of one node: resolves a client's session, puts its sockets and EventSources in the session's
/// rooms (<see cref="HeraldRooms"/>: the session, its channels, its user), and keeps them in step when the session
/// changes, here or on another node (through the bus channel <see cref="HeraldSessionOptions.BusChannel"/>).
/// </summary>
/// <remarks>
/// A change is written to the <see cref="ISessionStore"/> first, then applied to this node's clients of the session
/// (awaited, so a publication after <c>await session.Channels.SubscribeAsync("a")</c> reaches them), then published
/// for the other nodes. A client that connects loads the store after registering, so it cannot miss a change.
/// </remarks>
public sealed partial class HeraldSessionManager : IHostedService, IAsyncDisposable
{
    private readonly IMessageBus _bus;
    private readonly IServiceProvider? _services;
    private readonly ILogger _logger;
    private readonly Dictionary<string, LocalSession> _local = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private const int MaxCookieCandidates = 4;
    private readonly byte[] _signingKey;
    private IAsyncDisposable? _subscription;
    private SseServer? _sse;

    /// <summary>Creates the manager.</summary>
    /// <param name="store">The session store.</param>
    /// <param name="bus">The bus shared with the other nodes.</param>
    /// <param name="options">The options.</param>
    /// <param name="services">Services, to find the Socket.IO and SSE servers at start (optional).</param>
    /// <param name="logger">The logger.</param>
    public HeraldSessionManager(ISessionStore store, IMessageBus bus, IOptions<HeraldSessionOptions> options, IServiceProvider? services = null, ILogger<HeraldSessionManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(bus);
        Store = store;
        _bus = bus;
        _services = services;
        Options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxChannelsPerSession, 1, nameof(HeraldSessionOptions.MaxChannelsPerSession));
        if (Options.SigningKey is { Length: < 32 })
        {
            throw new ArgumentException("HeraldSessionOptions.SigningKey is a secret of at least 32 characters (or null for a random key per process).", nameof(options));
        }

        _signingKey = Options.SigningKey is { } key ? System.Text.Encoding.UTF8.GetBytes(key) : RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>The store.</summary>
    public ISessionStore Store { get; }

    /// <summary>The options.</summary>
    public HeraldSessionOptions Options { get; }

    /// <summary>A handle on session <paramref name="sessionId"/>, wherever its clients are.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <returns>The session.</returns>
    public HeraldSession Get(string sessionId)
    {
        if (!HeraldRooms.IsValidName(sessionId))
        {
            throw new ArgumentException("Not a valid session id.", nameof(sessionId));
        }

        return new HeraldSession(this, sessionId);
    }

    /// <summary>A new session id: 128 bits from a cryptographic source, base64url (22 characters).</summary>
    /// <returns>The id.</returns>
    public static string NewSessionId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// The <c>herald.sid</c> cookie value of session <paramref name="sessionId"/>: <c>{id}.{signature}</c>, the
    /// signature 128 bits of HMAC-SHA256 under <see cref="HeraldSessionOptions.SigningKey"/>. Only values made here are
    /// accepted back, so a client cannot choose its session (session fixation).
    /// </summary>
    /// <param name="sessionId">The session id (from <see cref="NewSessionId"/>).</param>
    /// <returns>The cookie value.</returns>
    public string CreateCookieValue(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return sessionId + "." + Sign(sessionId);
    }

    /// <summary>The session id inside a signed cookie value, or <c>null</c> when it is malformed or not signed with this key.</summary>
    /// <param name="cookieValue">The cookie value.</param>
    /// <returns>The session id, or <c>null</c>.</returns>
    public string? ReadCookieValue(string? cookieValue)
    {
        if (cookieValue is null)
        {
            return null;
        }

        var dot = cookieValue.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !IsValidCookieValue(cookieValue.AsSpan(0, dot)))
        {
            return null;
        }

        var id = cookieValue[..dot];
        var expected = Sign(id);
        var given = cookieValue.AsSpan(dot + 1);
        return given.Length == expected.Length
            && CryptographicOperations.FixedTimeEquals(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan()),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(given))
            ? id
            : null;
    }

    private string Sign(string sessionId)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_signingKey, System.Text.Encoding.UTF8.GetBytes(sessionId), mac);
        return Convert.ToBase64String(mac[..16]).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The session id of a request: from the user (<see cref="HeraldSessionOptions.SessionIdFromUser"/>), else a cookie signed by this server, else <c>null</c>.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The id, or <c>null</c>.</returns>
    public string? ResolveSessionId(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Resolve(context.User, context.Request.Headers.Cookie);
    }

    /// <summary>The session id of a socket's handshake (user, then signed cookie), or <c>null</c>.</summary>
    /// <param name="handshake">The handshake.</param>
    /// <returns>The id, or <c>null</c>.</returns>
    public string? ResolveSessionId(Handshake handshake)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        return Resolve(handshake.User, handshake.Headers.Cookie);
    }

    /// <summary>True when <paramref name="value"/> looks like an id of <see cref="NewSessionId"/> (16 to 64 base64url characters).</summary>
    /// <param name="value">The session id.</param>
    /// <returns>Whether it is acceptable.</returns>
    public static bool IsValidCookieValue(ReadOnlySpan<char> value)
    {
        if (value.Length is < 16 or > 64)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A session id that is safe to log: its first 4 characters (session ids are bearer secrets' halves; logs never carry them whole).</summary>
    internal static string Redact(string sessionId) => sessionId.Length <= 4 ? "…" : sessionId[..4] + "…";

    /// <summary>
    /// Whether a connection whose first request carried <paramref name="origin"/> may use the cookie's session: no
    /// Origin (not a browser, or a same-origin GET), the server's own origin, or a listed one. Cross-site WebSocket
    /// hijacking: a page on another site opening a WebSocket or EventSource to us sends the visitor's cookie.
    /// </summary>
    internal bool IsCookieOriginAllowed(string? origin, string? host, bool secure, IEnumerable<string>? transportOrigins)
    {
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        if (!string.IsNullOrEmpty(host) && string.Equals(origin, (secure ? "https://" : "http://") + host, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var allowed in Options.AllowedOrigins)
        {
            if (string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        if (transportOrigins is not null)
        {
            foreach (var allowed in transportOrigins)
            {
                if (allowed != "*" && string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        SessionsLog.CrossOriginCookieIgnored(_logger, origin.Length <= 100 ? origin : origin[..100]);
        return false;
    }

    private string? Resolve(ClaimsPrincipal? user, Microsoft.Extensions.Primitives.StringValues cookies)
    {
        if (user is not null && Options.SessionIdFromUser?.Invoke(user) is { } fromUser && HeraldRooms.IsValidName(fromUser))
        {
            return fromUser;
        }

        // Every herald.sid pair counts (a forged one may come first): the first correctly signed one wins. At most a few
        // are checked, so a header stuffed with cookies costs a bounded number of HMACs.
        var attempts = 0;
        foreach (var header in cookies)
        {
            var rest = header;
            while (attempts++ < MaxCookieCandidates && FindCookie(rest, Options.CookieName, out var next) is { } value)
            {
                if (ReadCookieValue(value) is { } id)
                {
                    return id;
                }

                rest = next;
            }
        }

        return null;
    }

    /// <summary>Finds <c>name=value</c> in a Cookie header (<c>a=1; herald.sid=xyz</c>); only well-formed values count.</summary>
    internal static string? FindCookie(string? header, string name) => FindCookie(header, name, out _);

    private static string? FindCookie(string? header, string name, out string? after)
    {
        var rest = header.AsSpan();
        after = null;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf(';');
            var pair = (end < 0 ? rest : rest[..end]).Trim();
            rest = end < 0 ? default : rest[(end + 1)..];
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].Trim().SequenceEqual(name))
            {
                var value = pair[(eq + 1)..].Trim().Trim('"');
                if (IsWellFormedCookie(value))
                {
                    after = rest.ToString();
                    return value.ToString();
                }
            }
        }

        return null;
    }

    /// <summary>A plain id or <c>{id}.{signature}</c>: base64url characters and at most one dot, 16 to 128 characters.</summary>
    private static bool IsWellFormedCookie(ReadOnlySpan<char> value)
    {
        if (value.Length is < 16 or > 128)
        {
            return false;
        }

        var dots = 0;
        foreach (var c in value)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return dots <= 1;
    }

    /// <summary>Subscribes to the session-change channel and hooks the Socket.IO and SSE servers found in the services.</summary>
    /// <param name="cancellationToken">Cancels the subscription.</param>
    /// <returns>A task completing once subscribed.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = await _bus.SubscribeAsync(Options.BusChannel, OnBusMessage, cancellationToken).ConfigureAwait(false);
        if (_services?.GetService<SocketIOServer>() is { } io)
        {
            Attach(io);
        }

        if (_services?.GetService<SseServer>() is { } sse)
        {
            Attach(sse);
        }
    }

    /// <summary>Unsubscribes.</summary>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A task completing once unsubscribed.</returns>
    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _subscription, null) is { } subscription)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _sse, null) is { } sse)
        {
            sse.ClientConnected -= OnSseConnected;
            sse.ClientDisconnected -= OnSseDisconnected;
        }
    }

    /// <summary>The rooms a client of a session in <paramref name="state"/> belongs to.</summary>
    internal static List<string> RoomsOf(string sessionId, SessionState state)
    {
        var rooms = new List<string>(state.Channels.Count + 2) { HeraldRooms.Session(sessionId) };
        foreach (var channel in state.Channels)
        {
            rooms.Add(HeraldRooms.Channel(channel));
        }

        if (state.UserId is { } user)
        {
            rooms.Add(HeraldRooms.User(user));
        }

        return rooms;
    }

    /// <summary>Writes a change to the store, applies it to this node's clients, then tells the other nodes.</summary>
    internal async ValueTask ChangeAsync(string sessionId, SessionChangeOp op, string[] values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length > Options.MaxChannelsPerCall)
        {
            throw new ArgumentException($"At most {Options.MaxChannelsPerCall} channels per call (HeraldSessionOptions.MaxChannelsPerCall).", nameof(values));
        }

        foreach (var value in values)
        {
            if (!HeraldRooms.IsValidName(value))
            {
                throw new ArgumentException($"A channel name or user id is 1 to {HeraldRooms.MaxNameLength} characters with no control character.", nameof(values));
            }
        }

        if (op == SessionChangeOp.Subscribe)
        {
            // Per-session state is bounded: the store keeps what sessions subscribe to for their lifetime.
            var current = await Store.LoadAsync(sessionId, cancellationToken).ConfigureAwait(false);
            var have = new HashSet<string>(current.Channels, StringComparer.Ordinal);
            var after = have.Count;
            foreach (var value in values)
            {
                if (have.Add(value))
                {
                    after++;
                }
            }

            if (after > Options.MaxChannelsPerSession)
            {
                throw new InvalidOperationException($"A session may be in at most {Options.MaxChannelsPerSession} channels (HeraldSessionOptions.MaxChannelsPerSession); it is in {current.Channels.Count}.");
            }
        }

        switch (op)
        {
            case SessionChangeOp.Subscribe:
                await Store.AddChannelsAsync(sessionId, values, cancellationToken).ConfigureAwait(false);
                break;
            case SessionChangeOp.Unsubscribe:
                await Store.RemoveChannelsAsync(sessionId, values, cancellationToken).ConfigureAwait(false);
                break;
            case SessionChangeOp.Reset:
                await Store.ClearChannelsAsync(sessionId, cancellationToken).ConfigureAwait(false);
                break;
            case SessionChangeOp.User:
                await Store.SetUserIdAsync(sessionId, values.Length == 0 ? null : values[0], cancellationToken).ConfigureAwait(false);
                break;
        }

        await ApplyLocalAsync(sessionId, op, values).ConfigureAwait(false);
        var message = new SessionChangeMessage(_bus.NodeName, sessionId, SessionChangeMessage.OpName(op), values);
        await _bus.PublishAsync(Options.BusChannel, JsonSerializer.SerializeToUtf8Bytes(message, SessionJsonContext.Default.SessionChangeMessage), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask OnBusMessage(BusMessage message)
    {
        SessionChangeMessage? change;
        try
        {
            change = JsonSerializer.Deserialize(message.Payload.Span, SessionJsonContext.Default.SessionChangeMessage);
        }
        catch (JsonException e)
        {
            SessionsLog.BadChange(_logger, e.Message);
            return;
        }

        if (change is null || change.Node is null || change.Values is null || !HeraldRooms.IsValidName(change.SessionId)
            || !SessionChangeMessage.TryParseOp(change.Op, out var op) || Array.Exists(change.Values, v => !HeraldRooms.IsValidName(v)))
        {
            SessionsLog.BadChange(_logger, "missing or invalid field");
            return;
        }

        if (change.Node == _bus.NodeName)
        {
            return; // applied before publishing
        }

        await ApplyLocalAsync(change.SessionId, op, change.Values).ConfigureAwait(false);
    }

    private sealed class LocalSession
    {
        public List<Socket> Sockets { get; } = [];

        public List<SseClient> SseClients { get; } = [];

        public bool IsEmpty => Sockets.Count == 0 && SseClients.Count == 0;
    }
}
