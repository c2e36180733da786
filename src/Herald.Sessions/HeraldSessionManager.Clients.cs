using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.Sse;
using Microsoft.AspNetCore.Http;

namespace Herald.Sessions;

public sealed partial class HeraldSessionManager
{
    /// <summary>The key of the <see cref="HeraldSession"/> in <see cref="Socket.Data"/>.</summary>
    public const string SocketDataKey = "herald:session";

    /// <summary>The Socket.IO event a client emits to subscribe to typed messages: <c>{"source":{"type":"User","key":"42"},"type":"UserAdded"}</c>, acked with <c>{"ok":true}</c> or <c>{"ok":false,"error":"…"}</c>.</summary>
    public const string SubscribeEventName = "herald:subscribe";

    /// <summary>The Socket.IO event a client emits to unsubscribe (same payload and ack as <see cref="SubscribeEventName"/>).</summary>
    public const string UnsubscribeEventName = "herald:unsubscribe";

    /// <summary>The SSE query parameter naming a message source, <c>{type}:{key}</c> (<c>msgSource=User:42</c>); repeatable, paired with <see cref="SseMessageTypeQueryName"/>.</summary>
    public const string SseMessageSourceQueryName = "msgSource";

    /// <summary>The SSE query parameter naming a message type (<c>msgType=UserAdded</c>), paired in order with <see cref="SseMessageSourceQueryName"/>.</summary>
    public const string SseMessageTypeQueryName = "msgType";

    private const string SubscriptionCountKey = "herald:msgsubs";

    /// <summary>Makes the sockets of <see cref="HeraldSessionOptions.Namespaces"/> join their session's rooms and handle <c>herald:subscribe</c>.</summary>
    /// <param name="io">The Socket.IO server.</param>
    public void Attach(SocketIOServer io)
    {
        ArgumentNullException.ThrowIfNull(io);
        foreach (var ns in Options.Namespaces)
        {
            // Also for a socket restored by connection-state recovery (which skips the application's middlewares):
            // it must follow its session like any other socket.
            io.Of(ns).Use(
                async (socket, next) =>
                {
                    await next().ConfigureAwait(false);
                    await AttachSocketAsync(socket).ConfigureAwait(false);
                },
                runsOnRecovery: true);
        }
    }

    /// <summary>Makes the EventSources of <paramref name="sse"/> follow their session (their topics come from the SSE authorization hook).</summary>
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

    private async Task AttachSocketAsync(Socket socket)
    {
        // A socket without a session cookie (a non-browser client), or whose handshake came from another site's page
        // (cross-site WebSocket hijacking: the browser sends the visitor's cookie anyway), gets a session of its own.
        var handshake = socket.Handshake;
        var sessionId = (IsCookieOriginAllowed(handshake.Headers.Origin, handshake.Headers.Host, handshake.Secure, SocketCorsOrigins())
            ? ResolveSessionId(handshake)
            : null) ?? NewSessionId();
        var session = new HeraldSession(this, sessionId);
        socket.Data[SocketDataKey] = session;
        lock (_lock)
        {
            if (!_local.TryGetValue(sessionId, out var local))
            {
                _local[sessionId] = local = new LocalSession();
            }

            local.Sockets.Add(socket);
        }

        socket.OnDisconnect(_ => Detach(sessionId, socket, null));
        socket.On(SubscribeEventName, (SocketEvent e) => OnMessageSubscriptionAsync(e, session, subscribe: true));
        socket.On(UnsubscribeEventName, (SocketEvent e) => OnMessageSubscriptionAsync(e, session, subscribe: false));

        var state = SessionState.Empty;
        try
        {
            state = await Store.LoadAsync(sessionId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            SessionsLog.AttachFailed(_logger, Redact(sessionId), e);
        }

        var rooms = RoomsOf(sessionId, state);
        await socket.Join(rooms).ConfigureAwait(false);
        SessionsLog.SocketAttached(_logger, socket.Id, Redact(sessionId), rooms.Count);
    }

    private void Detach(string sessionId, Socket? socket, SseClient? client)
    {
        lock (_lock)
        {
            if (_local.TryGetValue(sessionId, out var local))
            {
                if (socket is not null)
                {
                    local.Sockets.Remove(socket);
                }

                if (client is not null)
                {
                    local.SseClients.Remove(client);
                }

                if (local.IsEmpty)
                {
                    _local.Remove(sessionId);
                }
            }
        }
    }

    /// <summary>The number of sockets and EventSources of <paramref name="sessionId"/> on this node.</summary>
    /// <param name="sessionId">The session id.</param>
    /// <returns>The count.</returns>
    public int LocalClientCount(string sessionId)
    {
        lock (_lock)
        {
            return _local.TryGetValue(sessionId, out var local) ? local.Sockets.Count + local.SseClients.Count : 0;
        }
    }

    private async ValueTask ApplyLocalAsync(string sessionId, SessionChangeOp op, string[] values)
    {
        Socket[] sockets;
        SseClient[] sseClients;
        lock (_lock)
        {
            if (!_local.TryGetValue(sessionId, out var local))
            {
                return;
            }

            sockets = [.. local.Sockets];
            sseClients = [.. local.SseClients];
        }

        string[] rooms = op switch
        {
            SessionChangeOp.Subscribe or SessionChangeOp.Unsubscribe => Array.ConvertAll(values, HeraldRooms.Channel),
            SessionChangeOp.User when values.Length > 0 => [HeraldRooms.User(values[0])],
            _ => [],
        };
        foreach (var socket in sockets)
        {
            try
            {
                switch (op)
                {
                    case SessionChangeOp.Subscribe:
                        await socket.Join(rooms).ConfigureAwait(false);
                        break;
                    case SessionChangeOp.Unsubscribe:
                        await socket.Leave(rooms).ConfigureAwait(false);
                        break;
                    case SessionChangeOp.Reset:
                        await socket.Leave(WithPrefix(socket.Rooms, HeraldRooms.ChannelPrefix)).ConfigureAwait(false);
                        break;
                    case SessionChangeOp.User:
                        await socket.Leave(WithPrefix(socket.Rooms, HeraldRooms.UserPrefix)).ConfigureAwait(false);
                        await socket.Join(rooms).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                SessionsLog.ApplyFailed(_logger, Redact(sessionId), e);
            }
        }

        foreach (var client in sseClients)
        {
            switch (op)
            {
                case SessionChangeOp.Subscribe:
                    Array.ForEach(rooms, client.Join);
                    break;
                case SessionChangeOp.Unsubscribe:
                    Array.ForEach(rooms, client.Leave);
                    break;
                case SessionChangeOp.Reset:
                    WithPrefix(client.Topics, HeraldRooms.ChannelPrefix).ForEach(client.Leave);
                    break;
                case SessionChangeOp.User:
                    WithPrefix(client.Topics, HeraldRooms.UserPrefix).ForEach(client.Leave);
                    Array.ForEach(rooms, client.Join);
                    break;
            }
        }
    }

    private static List<string> WithPrefix(IReadOnlyCollection<string> rooms, string prefix)
    {
        var result = new List<string>();
        foreach (var room in rooms)
        {
            if (room.StartsWith(prefix, StringComparison.Ordinal))
            {
                result.Add(room);
            }
        }

        return result;
    }

    private async ValueTask OnMessageSubscriptionAsync(SocketEvent e, HeraldSession session, bool subscribe)
    {
        if (!TryReadSubscription(e, out var source, out var messageType))
        {
            Ack(e, false, "invalid");
            return;
        }

        var room = HeraldRooms.Message(source, messageType);
        var socket = e.Socket;
        if (!subscribe)
        {
            if (socket.Rooms.Contains(room))
            {
                await socket.Leave(room).ConfigureAwait(false);
                socket.Data.AddOrUpdate(SubscriptionCountKey, 0, static (_, n) => Math.Max(0, (n as int? ?? 1) - 1));
            }

            Ack(e, true, null);
            return;
        }

        if (socket.Data.TryGetValue(SubscriptionCountKey, out var count) && count is int n && n >= Options.MaxMessageSubscriptions)
        {
            Ack(e, false, "too-many");
            return;
        }

        // Default deny: without a hook nobody may read typed messages.
        if (Options.AuthorizeMessageSubscription is not { } authorize
            || !await authorize(new MessageSubscriptionRequest(session, source, messageType, socket, null)).ConfigureAwait(false))
        {
            SessionsLog.SubscriptionRefused(_logger, source.ToString(), messageType, Redact(session.Id));
            Ack(e, false, "forbidden");
            return;
        }

        if (!socket.Rooms.Contains(room))
        {
            await socket.Join(room).ConfigureAwait(false);
            socket.Data.AddOrUpdate(SubscriptionCountKey, 1, static (_, n) => (n as int? ?? 0) + 1);
        }

        Ack(e, true, null);
    }

    private static void Ack(SocketEvent e, bool ok, string? error)
    {
        if (e.HasAck)
        {
            e.Ack(error is null ? new SubscriptionAck(ok, null) : new SubscriptionAck(ok, error));
        }
    }

    /// <summary>Reads <c>{"source":{"type":"User","key":"42"},"type":"UserAdded"}</c>.</summary>
    private static bool TryReadSubscription(SocketEvent e, out MessageSource source, out string messageType)
    {
        source = default;
        messageType = "";
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("source", out var src) || src.ValueKind != JsonValueKind.Object
            || !src.TryGetProperty("type", out var st) || st.ValueKind != JsonValueKind.String
            || !src.TryGetProperty("key", out var sk) || sk.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)
            || !arg.TryGetProperty("type", out var mt) || mt.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var key = sk.ValueKind == JsonValueKind.String ? sk.GetString()! : sk.GetRawText();
        var type = st.GetString()!;
        messageType = mt.GetString()!;
        if (!MessageSource.IsValidTypeName(type) || !HeraldRooms.IsValidName(key) || !MessageSource.IsValidTypeName(messageType))
        {
            return false;
        }

        source = new MessageSource(type, key);
        return true;
    }

    private sealed record SubscriptionAck(bool Ok, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Error);

    // ---- SSE ----

    /// <summary>
    /// The SSE side of <see cref="SseOptions.Authorize"/> (installed by <c>AddHeraldSessions</c> around the
    /// application's own hook): adds the session's rooms and the typed-message topics of the query to the accepted
    /// result. A bad <c>msgSource</c>/<c>msgType</c> pair gives 400, a refused one 403.
    /// </summary>
    internal async ValueTask<SseAuthorizationResult> AuthorizeSseAsync(HttpContext context, SseAuthorizationResult accepted)
    {
        var request = context.Request;
        var sessionId = (IsCookieOriginAllowed(request.Headers.Origin, request.Host.Value, request.IsHttps, _sse?.Options.AllowedOrigins)
            ? ResolveSessionId(context)
            : null) ?? NewSessionId();
        var session = new HeraldSession(this, sessionId);
        var state = await Store.LoadAsync(sessionId, context.RequestAborted).ConfigureAwait(false);
        var topics = RoomsOf(sessionId, state);
        var sources = context.Request.Query[SseMessageSourceQueryName];
        var types = context.Request.Query[SseMessageTypeQueryName];
        if (sources.Count != types.Count || sources.Count > Options.MaxMessageSubscriptions)
        {
            return SseAuthorizationResult.Reject(StatusCodes.Status400BadRequest);
        }

        for (var i = 0; i < sources.Count; i++)
        {
            var text = sources[i] ?? "";
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var messageType = types[i] ?? "";
            if (colon <= 0 || !MessageSource.IsValidTypeName(text[..colon]) || !HeraldRooms.IsValidName(text[(colon + 1)..])
                || !MessageSource.IsValidTypeName(messageType))
            {
                return SseAuthorizationResult.Reject(StatusCodes.Status400BadRequest);
            }

            var source = new MessageSource(text[..colon], text[(colon + 1)..]);
            if (Options.AuthorizeMessageSubscription is not { } authorize
                || !await authorize(new MessageSubscriptionRequest(session, source, messageType, null, context)).ConfigureAwait(false))
            {
                SessionsLog.SubscriptionRefused(_logger, source.ToString(), messageType, Redact(sessionId));
                return SseAuthorizationResult.Reject(StatusCodes.Status403Forbidden);
            }

            topics.Add(HeraldRooms.Message(source, messageType));
        }

        // The application's own grants (SseClient.GrantedTopics) are kept apart from the session's rooms so that the
        // reconcile after connect does not remove them.
        var result = new SessionSseTopics(accepted.Topics ?? []);
        result.AddRange(topics);
        result.AddRange(result.Granted);

        // The owner binds the EventSource's resume to this session: its Last-Event-ID replayed with another cookie is
        // a fresh client (SseOptions.ResumeKey).
        return SseAuthorizationResult.Accept(accepted.ClientId, result, accepted.Owner ?? HeraldRooms.Session(sessionId));
    }

    private IEnumerable<string>? SocketCorsOrigins()
        => _services?.GetService<Microsoft.Extensions.Options.IOptions<SocketIOOptions>>()?.Value.Engine.Cors?.Origins;

    private void OnSseConnected(SseClient client)
    {
        string? sessionId = null;
        foreach (var topic in client.Topics)
        {
            if (topic.StartsWith(HeraldRooms.SessionPrefix, StringComparison.Ordinal))
            {
                sessionId = topic[HeraldRooms.SessionPrefix.Length..];
                break;
            }
        }

        if (sessionId is null)
        {
            return;
        }

        lock (_lock)
        {
            if (!_local.TryGetValue(sessionId, out var local))
            {
                _local[sessionId] = local = new LocalSession();
            }

            local.SseClients.Add(client);
        }

        // A resumed client kept the topics of its previous connection: drop the channels the session left meanwhile.
        _ = ReconcileSseAsync(sessionId, client);
    }

    private async Task ReconcileSseAsync(string sessionId, SseClient client)
    {
        try
        {
            var state = await Store.LoadAsync(sessionId).ConfigureAwait(false);
            var expected = new HashSet<string>(RoomsOf(sessionId, state), StringComparer.Ordinal);

            // What the application's own hook granted this connection is not the session's to take back.
            if (client.GrantedTopics is SessionSseTopics { Granted: var granted })
            {
                expected.UnionWith(granted);
            }

            foreach (var topic in client.Topics)
            {
                if ((topic.StartsWith(HeraldRooms.ChannelPrefix, StringComparison.Ordinal) || topic.StartsWith(HeraldRooms.UserPrefix, StringComparison.Ordinal))
                    && !expected.Contains(topic))
                {
                    client.Leave(topic);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            SessionsLog.AttachFailed(_logger, Redact(sessionId), e);
        }
    }

    private void OnSseDisconnected(SseClient client, SseDisconnectReason reason)
    {
        foreach (var topic in client.Topics)
        {
            if (topic.StartsWith(HeraldRooms.SessionPrefix, StringComparison.Ordinal))
            {
                Detach(topic[HeraldRooms.SessionPrefix.Length..], null, client);
                return;
            }
        }
    }
}

/// <summary>The topics an EventSource gets (the session's and the application hook's), remembering which the hook granted.</summary>
internal sealed class SessionSseTopics(IReadOnlyList<string> granted) : List<string>
{
    public IReadOnlyList<string> Granted { get; } = granted;
}
