using System.Text.Json;
using Herald.Protocol.Sse;
using Herald.Sse.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Primitives;

namespace Herald.Sse;

public sealed partial class SseServer
{
    private static readonly byte[] s_idOnly = "\n"u8.ToArray();
    private readonly List<SseHistoryEntry> _replayScratch = [];

    /// <summary>
    /// Serves one EventSource request. Order: CORS → topic syntax (400) → <see cref="SseOptions.Authorize"/> →
    /// <see cref="SseOptions.AuthorizeTopic"/> (403) → who is it (hook id, else the id inside <c>Last-Event-ID</c>, else
    /// a new one) → capacity (503) → closed id (204) → stream.
    /// </summary>
    /// <param name="context">The HTTP context.</param>
    /// <returns>A task that completes when the stream ends.</returns>
    public async Task HandleRequestAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var response = context.Response;
        if (!ApplyCors(context))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            // EventSource itself never preflights; a polyfill sending Last-Event-ID as a header does.
            response.Headers.AccessControlAllowMethods = "GET";
            response.Headers.AccessControlAllowHeaders = "Last-Event-ID, Cache-Control, Accept";
            response.Headers.AccessControlMaxAge = "600";
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var requested = request.Query[_options.TopicQueryName];
        if (!ValidateRequestedTopics(requested, out var badTopic))
        {
            SseLog.BadRequest(_logger, badTopic);
            response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var auth = SseAuthorizationResult.Accept();
        if (_options.Authorize is { } authorize)
        {
            auth = await authorize(context);
            if (!auth.IsAccepted)
            {
                SseLog.Unauthorized(_logger, auth.StatusCode);
                response.StatusCode = auth.StatusCode;
                return;
            }
        }

        if (_options.AuthorizeTopic is { } authorizeTopic)
        {
            foreach (var topic in requested)
            {
                if (!await authorizeTopic(context, topic!))
                {
                    SseLog.TopicRefused(_logger, topic!);
                    response.StatusCode = StatusCodes.Status403Forbidden;
                    return;
                }
            }
        }

        var clientId = auth.ClientId;
        if (clientId is not null && (!SseEventId.IsValidClientId(clientId, _options.MaxNameLength) || SseEventId.IsReserved(clientId)))
        {
            throw new InvalidOperationException($"The client id from SseOptions.Authorize must be 1 to {_options.MaxNameLength} characters without CR, LF or NUL, and not a reserved herald: name.");
        }

        if (auth.Topics is { } serverTopics)
        {
            foreach (var topic in serverTopics)
            {
                ValidateTopic(topic);
            }
        }

        // Who reconnects, and from where: our ids are "{instance}-{seq}.{token}". The client id follows from the token
        // and the owner (or, for a hook-given id, the token must match it): a token replayed by another owner (another
        // session) names an unknown client, and a forged one a random one. A client never picks its id.
        string? lastEventId = request.Headers["Last-Event-ID"];
        if (string.IsNullOrEmpty(lastEventId))
        {
            lastEventId = request.Query[_options.LastEventIdQueryName];
        }

        string? token = null;
        long resumeSeq = -1;
        string? missReason = null;
        string? foreignInstance = null;
        long foreignSeq = 0;
        if (!string.IsNullOrEmpty(lastEventId))
        {
            if (SseEventId.TryParse(lastEventId, out var instance, out var seq, out var given)
                && (clientId is null || SseEventId.TokensEqual(given, SseEventId.TokenForHookId(_resumeKey, clientId, auth.Owner))))
            {
                var previousId = clientId ?? SseEventId.ClientIdFor(_resumeKey, given, auth.Owner);
                if (instance == _instanceTag)
                {
                    clientId = previousId;
                    token = given;
                    resumeSeq = seq;
                }
                else if (_store is not null)
                {
                    // Another node's id: its history may be in the shared store (found only with the same key and owner).
                    clientId = previousId;
                    token = given;
                    foreignInstance = instance;
                    foreignSeq = seq;
                }
                else
                {
                    missReason = "unknown";
                }
            }
            else
            {
                missReason = "unknown";
            }
        }

        if (requested.Count > 0 && RequestsAClientIdLocked(requested))
        {
            // A topic named after a client id would receive that client's direct events.
            SseLog.TopicRefused(_logger, "(a client id)");
            response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (clientId is null)
        {
            token = SseEventId.NewToken();
            clientId = SseEventId.ClientIdFor(_resumeKey, token, auth.Owner);
        }

        token ??= SseEventId.TokenForHookId(_resumeKey, clientId, auth.Owner);
        (string Instance, long AfterSeq, SseResumeResult Result)? foreign = null;
        if (foreignInstance is not null)
        {
            var found = await LookUpForeignAsync(foreignInstance, clientId, foreignSeq, context.RequestAborted);
            if (found.Status == SseResumeStatus.Closed)
            {
                SseLog.ClosedClientReconnected(_logger, clientId);
                response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            if (found.Status == SseResumeStatus.Found)
            {
                foreign = (foreignInstance, foreignSeq, found);
            }
            else
            {
                // Nobody had that token (or the store is down): a new session under the id the token names for this
                // owner, as after an expired window on this node. The id is not one anybody chose.
                missReason = "unknown";
            }
        }

        if (Interlocked.Increment(ref _connectionCount) > _options.MaxClients)
        {
            Interlocked.Decrement(ref _connectionCount);
            SseLog.MaxClientsReached(_logger, _options.MaxClients);
            SseMetrics.ConnectionsRefused.Add(1);
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        SseConnection? connection = null;
        var replayed = 0;
        var resumed = false;
        try
        {
            lock (_lock)
            {
                if (_stopping)
                {
                    response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return;
                }

                connection = AttachLocked(context, clientId, token, auth.Owner, requested, auth.Topics, resumeSeq, missReason, foreign, out resumed, out replayed);
            }

            if (connection is null)
            {
                // Closed for good: 204 is the one answer that makes EventSource stop reconnecting.
                SseLog.ClosedClientReconnected(_logger, clientId);
                response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();

            SseLog.ClientConnected(_logger, clientId, resumed, replayed);
            connection.Client.GrantedTopics = auth.Topics ?? [];
            RaiseConnected(connection.Client);

            var reason = await connection.RunAsync();
            if (reason == SseDisconnectReason.SlowClient)
            {
                // Queued data cannot be delivered; end the connection (HTTP/2: only this stream) rather than let
                // Kestrel try to finish a response the peer does not read.
                context.Abort();
            }
        }
        catch (Exception e) when (connection is not null)
        {
            SseLog.ConnectionFailed(_logger, clientId, e);
            connection.Terminate(SseDisconnectReason.ClientDisconnected);
        }
        finally
        {
            if (connection is not null)
            {
                lock (_lock)
                {
                    _connections.Remove(connection);
                    var client = connection.Client;
                    if (client.Connection == connection)
                    {
                        client.Connection = null;
                        if (!client.IsClosed)
                        {
                            client.EndedAt = Now;
                            _store?.SaveSession(_instanceTag, client.Id, client.Rooms);
                        }

                        NoteDisconnectedLocked(client);
                    }
                }
            }

            Interlocked.Decrement(ref _connectionCount);
            if (connection is not null)
            {
                SseLog.ClientDisconnected(_logger, clientId, connection.Reason);
                RaiseDisconnected(connection.Client, connection.Reason);
            }
        }
    }

    private bool RequestsAClientIdLocked(StringValues requested)
    {
        lock (_lock)
        {
            foreach (var topic in requested)
            {
                if (_clients.ContainsKey(topic!))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private SseConnection? AttachLocked(
        HttpContext context,
        string clientId,
        string token,
        string? owner,
        StringValues requested,
        IReadOnlyList<string>? serverTopics,
        long resumeSeq,
        string? missReason,
        (string Instance, long AfterSeq, SseResumeResult Result)? foreign,
        out bool resumed,
        out int replayed)
    {
        resumed = false;
        replayed = 0;
        var now = Now;
        var window = ToTimestampUnits(_options.ReplayWindow);
        if (_clients.TryGetValue(clientId, out var client) && client.Owner != owner)
        {
            // Only reachable with a hook-given id reused by another owner: the old client ends, the new one starts over.
            client.Connection?.Terminate(SseDisconnectReason.Replaced);
            if (client.Connection is { } old)
            {
                _connections.Remove(old);
                client.Connection = null;
            }

            LeaveAllLocked(client);
            _clients.Remove(clientId);
            client = null;
            resumeSeq = -1;
        }

        if (client is not null)
        {
            if (client.IsClosed)
            {
                return null;
            }

            if (client.Connection is { } previous)
            {
                // The same id again while the old stream is open: the newer one wins (the old peer is usually gone
                // without our having noticed yet).
                previous.Terminate(SseDisconnectReason.Replaced);
                _connections.Remove(previous);
                client.Connection = null;
            }
            else if (now - client.EndedAt > window)
            {
                // Kept past the window (the sweep had not run yet): start over as a new session.
                LeaveAllLocked(client);
                if (resumeSeq >= 0)
                {
                    missReason = "expired";
                    resumeSeq = -1;
                }
            }
        }
        else
        {
            client = new SseClient(this, clientId, owner, token);
            _clients.Add(clientId, client);
            if (resumeSeq >= 0)
            {
                missReason = "expired";
                resumeSeq = -1;
            }
        }

        if (foreign is { } f)
        {
            // The other node's session is the current one: its topics (joined here from now on) and what it missed.
            resumed = true;
            LeaveAllLocked(client);
            foreach (var topic in f.Result.Topics)
            {
                JoinLocked(client, topic);
            }

            if (f.Result.Gap)
            {
                missReason = "history";
            }
        }

        if (resumeSeq > _seq)
        {
            missReason = "unknown";
            resumeSeq = -1;
        }

        var replay = _replayScratch;
        replay.Clear();
        if (resumeSeq >= 0)
        {
            resumed = true;
            if (CollectMissedLocked(client, resumeSeq, now - window, replay))
            {
                missReason = "history";
            }
        }

        foreach (var topic in requested)
        {
            JoinLocked(client, topic!);
        }

        if (serverTopics is not null)
        {
            foreach (var topic in serverTopics)
            {
                JoinLocked(client, topic);
            }
        }

        var connection = new SseConnection(client, context.Response.BodyWriter, _idPrefix, _options.MaxQueuedBytes, _options.MaxQueuedMessages, context.RequestAborted);
        client.Connection = connection;
        _connections.Add(connection);

        // The open event carries the resume point: a client dropping during the replay resumes from it again. After a
        // resume from another node that is the other node's id while its events are being replayed, else our current
        // sequence (never -1: a drop before the next event must resume this session, not start a new one).
        var open = BuildOpenBody(clientId, resumed);
        if (foreign is { } r && r.Result.Events.Count > 0)
        {
            connection.TryEnqueue(new SseQueuedFrame(WithForeignId(r.Instance, r.AfterSeq, client.Token, open), 0, HasId: false), out _);
        }
        else
        {
            connection.TryEnqueue(new SseQueuedFrame(open, resumeSeq >= 0 ? resumeSeq : _seq, HasId: true), out _);
        }

        if (missReason is not null)
        {
            SseLog.MissedEvents(_logger, clientId, missReason);
            connection.TryEnqueue(new SseQueuedFrame(BuildMissedBody(missReason), 0, HasId: false), out _);
        }

        if (foreign is { } g)
        {
            // Replayed with the other node's ids: a drop during this replay resumes from the store again.
            foreach (var e in g.Result.Events)
            {
                connection.TryEnqueue(new SseQueuedFrame(WithForeignId(g.Instance, e.Seq, client.Token, e.Body), 0, HasId: false), out _);
                replayed++;
            }

            if (g.Result.Events.Count > 0)
            {
                // Then an id with no data (no event is dispatched, EventSource's last id becomes ours): a drop before
                // the next event resumes here, with the topics and events of this node, not from the other node again.
                connection.TryEnqueue(new SseQueuedFrame(s_idOnly, _seq, HasId: true), out _);
            }
        }

        long last = -1;
        foreach (var entry in replay)
        {
            if (entry.Seq != last)
            {
                Deliver(connection, entry.Seq, entry.Body);
                last = entry.Seq;
                replayed++;
            }
        }

        replay.Clear();
        _store?.SaveSession(_instanceTag, clientId, client.Rooms);
        return connection;
    }

    private async ValueTask<SseResumeResult> LookUpForeignAsync(string instance, string clientId, long afterSeq, CancellationToken cancellationToken)
    {
        try
        {
            return await _store!.ResumeAsync(instance, clientId, afterSeq, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The store being down must not refuse connections: the client is told it missed data.
            SseLog.HistoryStoreFailed(_logger, clientId, e);
            return SseResumeResult.Unknown;
        }
    }

    private static byte[] WithForeignId(string instance, long seq, string token, byte[] body)
    {
        var id = System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"id: {instance}-{seq}.{token}\n"));
        var frame = new byte[id.Length + body.Length];
        id.CopyTo(frame, 0);
        body.CopyTo(frame, id.Length);
        return frame;
    }

    /// <summary>
    /// Gathers, in sequence order, what <paramref name="client"/> would have received after <paramref name="afterSeq"/>:
    /// broadcasts, its topics' events since it joined them, its direct events. Returns true when some of it was already
    /// dropped (count or age), so the client must be told it missed data.
    /// </summary>
    private bool CollectMissedLocked(SseClient client, long afterSeq, long cutoff, List<SseHistoryEntry> into)
    {
        var gap = false;
        _allHistory.Trim(cutoff);
        _allHistory.CollectAfter(afterSeq, into);
        gap |= _allHistory.EvictedUpTo > afterSeq;
        foreach (var (topic, joinedAt) in client.Rooms)
        {
            if (_rooms.TryGetValue(topic, out var room))
            {
                var from = Math.Max(afterSeq, joinedAt);
                room.History.Trim(cutoff);
                room.History.CollectAfter(from, into);
                gap |= room.History.EvictedUpTo > from;
            }
        }

        if (client.Direct is { } direct)
        {
            direct.Trim(cutoff);
            direct.CollectAfter(afterSeq, into);
            gap |= direct.EvictedUpTo > afterSeq;
        }

        // An event sent to several of the client's audiences is in several histories: sort, the caller skips repeats.
        into.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
        return gap;
    }

    private byte[] BuildOpenBody(string clientId, bool resumed)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        SseFrameWriter.WriteRetry(buffer, (long)_options.RetryInterval.TotalMilliseconds);
        var data = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(data))
        {
            json.WriteStartObject();
            json.WriteString("clientId"u8, clientId);
            json.WriteBoolean("resumed"u8, resumed);
            json.WriteEndObject();
        }

        SseFrameWriter.WriteEventBody(buffer, "herald:open"u8, data.WrittenSpan);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] BuildMissedBody(string reason)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        SseFrameWriter.WriteEventBody(buffer, "herald:missed"u8, System.Text.Encoding.UTF8.GetBytes("{\"reason\":\"" + reason + "\"}"));
        return buffer.WrittenSpan.ToArray();
    }

    private bool ValidateRequestedTopics(StringValues requested, out string problem)
    {
        problem = "";
        if (requested.Count > _options.MaxTopicsPerRequest)
        {
            problem = $"more than {_options.MaxTopicsPerRequest} topics requested";
            return false;
        }

        foreach (var topic in requested)
        {
            if (string.IsNullOrEmpty(topic) || topic.Length > _options.MaxNameLength)
            {
                problem = "a requested topic is empty or too long";
                return false;
            }

            if (SseEventId.IsReserved(topic))
            {
                // herald:s:, herald:ch:, herald:u:, herald:m: belong to the session layer and are server-side only.
                problem = "a requested topic is a reserved herald: name";
                return false;
            }
        }

        return true;
    }

    /// <summary>Adds CORS headers for an allowed Origin; false when the origin is not allowed.</summary>
    private bool ApplyCors(HttpContext context)
    {
        var allowed = _options.AllowedOrigins;
        if (allowed.Count == 0)
        {
            return true;
        }

        string? origin = context.Request.Headers.Origin;
        if (string.IsNullOrEmpty(origin))
        {
            // Same-origin GETs carry no Origin.
            return true;
        }

        var headers = context.Response.Headers;
        headers.Vary = "Origin";
        foreach (var candidate in allowed)
        {
            if (string.Equals(candidate, origin, StringComparison.OrdinalIgnoreCase))
            {
                headers.AccessControlAllowOrigin = origin;
                headers.AccessControlAllowCredentials = "true";
                return true;
            }
        }

        foreach (var candidate in allowed)
        {
            if (candidate == "*")
            {
                // Any origin, but never with credentials: echoing every origin with cookies would let any site read the stream.
                headers.AccessControlAllowOrigin = "*";
                return true;
            }
        }

        SseLog.OriginRefused(_logger, origin);
        return false;
    }
}
