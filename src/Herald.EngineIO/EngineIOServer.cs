using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Herald.EngineIO.WebSockets;
using Herald.Protocol.EngineIO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Herald.EngineIO;

/// <summary>
/// An Engine.IO v4 server: answers the requests of one endpoint (handshakes, long-polling GET/POST,
/// WebSocket and upgrades), keeps the session registry, and runs the heartbeats of every session from a
/// single sweep timer. Hands each new session to an <see cref="IEngineConnectionHandler"/>.
/// </summary>
public sealed partial class EngineIOServer : IAsyncDisposable
{
    private readonly IEngineConnectionHandler _handler;
    private readonly ConcurrentDictionary<string, EngineSession> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ITimer _sweepTimer;
    private readonly string[] _handshakeUpgrades;
    private readonly string[] _transports;
    private readonly ConcurrentDictionary<string, long> _clientClosedPolls = new(StringComparer.Ordinal);
    private int _sweeping;
    private volatile bool _disposed;

    /// <summary>Creates a server; <paramref name="options"/> must not change afterwards.</summary>
    public EngineIOServer(EngineIOOptions options, IEngineConnectionHandler handler, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        options.Validate();
        Options = options;
        _handler = handler;
        loggerFactory ??= NullLoggerFactory.Instance;
        Logger = loggerFactory.CreateLogger("Herald.EngineIO.EngineIOServer");
        _time = options.TimeProvider;
        PingIntervalTicks = ToTimestamp(options.PingInterval);
        PingTimeoutTicks = ToTimestamp(options.PingTimeout);
        _transports = [.. options.EffectiveTransports];
        _handshakeUpgrades = options.AllowUpgrades && _transports.AsSpan().Contains(EngineTransports.WebSocket)
            ? [EngineTransports.WebSocket]
            : [];

        // One timer for every session's heartbeat. Its period bounds how late a ping can be: a tenth of the
        // shorter heartbeat setting, between 10 ms and 1 s.
        var shorter = options.PingInterval < options.PingTimeout ? options.PingInterval : options.PingTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(shorter.Ticks / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        _sweepTimer = _time.CreateTimer(static state => ((EngineIOServer)state!).Sweep(), this, period, period);
    }

    /// <summary>The options this server runs with.</summary>
    public EngineIOOptions Options { get; }

    /// <summary>The number of open sessions (closed sessions leave the registry at once).</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>The open session with this id, if any.</summary>
    public bool TryGetConnection(string sid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EngineConnection? connection)
    {
        if (_sessions.TryGetValue(sid, out var session))
        {
            connection = session;
            return true;
        }

        connection = null;
        return false;
    }

    internal ILogger Logger { get; }

    internal long PingIntervalTicks { get; }

    internal long PingTimeoutTicks { get; }

    internal long Now => _time.GetTimestamp();

    internal long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Handles one request addressed to the Engine.IO endpoint (the path is assumed to match).</summary>
    /// <remarks>
    /// WebSockets are accepted here, over the HTTP/1.1 upgrade, with Herald's own RFC 6455 framing (no need
    /// for <c>UseWebSockets</c>): frames are built once per message and written in batches.
    /// </remarks>
    public async Task HandleRequestAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;

        // Polling bodies echo what clients sent (the POST answer is even labelled text/html, as the reference client
        // expects): no browser may sniff any answer of this endpoint, errors included, into something it renders.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (Options.Cors is { } cors)
        {
            ApplyCors(context, cors);
            if (HttpMethods.IsOptions(request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                context.Response.ContentLength = 0;
                return;
            }
        }

        if (_disposed)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var query = request.Query;
        var transport = query["transport"];
        if (transport.Count != 1 || !_transports.AsSpan().Contains(transport[0]!))
        {
            await RejectAsync(context, EngineErrorCode.UnknownTransport);
            return;
        }

        if (!StringValues.Equals(query["EIO"], "4"))
        {
            await RejectAsync(context, EngineErrorCode.UnsupportedProtocolVersion);
            return;
        }

        var isWebSocketTransport = transport[0] == EngineTransports.WebSocket;
        var isWebSocketRequest = ServerWebSocket.IsWebSocketRequest(context);
        if (isWebSocketTransport != isWebSocketRequest)
        {
            // A websocket transport over plain HTTP, or a WebSocket upgrade that claims to be polling.
            await RejectAsync(context, EngineErrorCode.BadRequest);
            return;
        }

        var sid = query["sid"];
        if (!StringValues.IsNullOrEmpty(sid))
        {
            if (sid.Count != 1 || !_sessions.TryGetValue(sid[0]!, out var session) || session.IsExpired(Now))
            {
                if (sid.Count == 1 && !isWebSocketRequest && HttpMethods.IsGet(request.Method) && _clientClosedPolls.TryRemove(sid[0]!, out _))
                {
                    // The client closed this session with a POST that overtook its own GET: end that GET with the
                    // noop it would have got had it arrived first (requests on two connections can be processed
                    // in either order here, unlike on Node's single event loop).
                    context.Response.ContentType = "text/plain; charset=UTF-8";
                    context.Response.ContentLength = 1;
                    await context.Response.Body.WriteAsync(s_noopBody, context.RequestAborted);
                    return;
                }

                await RejectAsync(context, EngineErrorCode.UnknownSid);
                return;
            }

            if (isWebSocketRequest)
            {
                if (!Options.AllowUpgrades)
                {
                    await RejectAsync(context, EngineErrorCode.BadRequest);
                    return;
                }

                var upgradeHeaders = CopyHeaders(request.Headers);
                Options.OnHeaders?.Invoke(context);
                ServerWebSocket webSocket;
                try
                {
                    webSocket = await ServerWebSocket.AcceptAsync(context);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
                {
                    return;
                }

                await using (webSocket)
                {
                    await session.RunUpgradeAsync(webSocket, WantsBase64(query), upgradeHeaders, context.RequestAborted);
                }
            }
            else if (HttpMethods.IsGet(request.Method))
            {
                await session.HandlePollAsync(context);
            }
            else if (HttpMethods.IsPost(request.Method))
            {
                await session.HandlePostAsync(context);
            }
            else
            {
                await RejectAsync(context, EngineErrorCode.BadRequest);
            }

            return;
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            await RejectAsync(context, EngineErrorCode.BadHandshakeMethod);
            return;
        }

        if (Options.AllowRequest is { } allowRequest)
        {
            var (allowed, message) = await allowRequest(context);
            if (!allowed)
            {
                await RejectAsync(context, EngineErrorCode.Forbidden, message);
                return;
            }
        }

        var address = NormalizeAddress(context.Connection.RemoteIpAddress);
        if (TryAdmit(address) is { } refusal)
        {
            await RejectAsync(context, EngineErrorCode.BadRequest, refusal.Message, refusal.Status);
            return;
        }

        await HandshakeAsync(context, isWebSocketRequest, address);
    }

    /// <summary>The handshake of an admitted connection: its slot (<see cref="TryAdmit"/>) passes to the session, or is released here.</summary>
    private async Task HandshakeAsync(HttpContext context, bool webSocket, System.Net.IPAddress? address)
    {
        var id = NewSessionId();
        var info = CaptureRequest(context);
        SetCookie(context, id);
        Options.OnInitialHeaders?.Invoke(context);
        Options.OnHeaders?.Invoke(context);

        var openPacket = new ArrayBufferWriter<byte>(256);
        EnginePacketWriter.WriteOpen(openPacket, id, webSocket ? [] : _handshakeUpgrades,
            (long)Options.PingInterval.TotalMilliseconds, (long)Options.PingTimeout.TotalMilliseconds, Options.MaxHttpBufferSize);

        if (webSocket)
        {
            ServerWebSocket socket;
            try
            {
                socket = await ServerWebSocket.AcceptAsync(context);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                ReleaseSlot(address);
                return;
            }

            await using var owned = socket;
            var session = new EngineSession(this, id, EngineTransports.WebSocket, info, socket);
            _sessions[id] = session;
            EngineIOLog.SessionOpened(Logger, id, EngineTransports.WebSocket);
            try
            {
                await socket.WriteAsync(WebSocketFrames.Build(WebSocketFrames.OpText, openPacket.WrittenSpan), context.RequestAborted);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                session.Abort(EngineCloseReasons.TransportError, ex);
                socket.Abort();
                return;
            }

            OpenSession(session);
            await session.RunWebSocketAsync(socket, WantsBase64(context.Request.Query), context.RequestAborted);
        }
        else
        {
            var session = new EngineSession(this, id, EngineTransports.Polling, info, null);
            _sessions[id] = session;
            EngineIOLog.SessionOpened(Logger, id, EngineTransports.Polling);

            // The open packet is the whole answer; what OnOpen sends waits for the next GET, like the reference server.
            OpenSession(session);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/plain; charset=UTF-8";
            response.ContentLength = openPacket.WrittenCount;
            try
            {
                await response.BodyWriter.WriteAsync(openPacket.WrittenMemory, context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client never learnt its sid: nobody can use this session.
                session.Abort(EngineCloseReasons.TransportError, ex);
            }
        }
    }

    private void OpenSession(EngineSession session)
    {
        try
        {
            _handler.OnOpen(session);
        }
        catch (Exception ex)
        {
            EngineIOLog.ListenerFailed(Logger, session.Id, ex);
            session.Abort(EngineCloseReasons.TransportError, ex);
        }
    }

    internal void Remove(EngineSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, EngineSession>(session.Id, session)))
        {
            ReleaseSlot(NormalizeAddress(session.Request.RemoteAddress));
        }
    }

    /// <summary>A polling client closed its session while no GET was pending: its in-flight GET gets a noop for a short while.</summary>
    internal void RememberClientClosedPoll(string sid) => _clientClosedPolls[sid] = Now + ToTimestamp(s_clientClosedPollGrace);

    /// <summary>Takes the grace entry of a client-closed session, if any (so only one GET gets the noop).</summary>
    internal bool TryConsumeClientClosedPoll(string sid) => _clientClosedPolls.TryRemove(sid, out _);

    private static readonly TimeSpan s_clientClosedPollGrace = TimeSpan.FromSeconds(1);
    private static readonly byte[] s_noopBody = "6"u8.ToArray();

    private void Sweep()
    {
        // Ticks never overlap: a slow sweep makes the next one skip, not pile up.
        if (Interlocked.Exchange(ref _sweeping, 1) != 0)
        {
            return;
        }

        try
        {
            var now = Now;
            foreach (var pair in _sessions)
            {
                pair.Value.OnTick(now);
            }

            PruneRateBuckets(now);
            if (!_clientClosedPolls.IsEmpty)
            {
                foreach (var pair in _clientClosedPolls)
                {
                    if (now >= pair.Value)
                    {
                        _clientClosedPolls.TryRemove(pair);
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>20 url-safe characters from 15 cryptographically random bytes.</summary>
    private static string NewSessionId()
    {
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Whether a transport's request asks for base64 (<c>b64</c> present and not empty, as the reference server reads it).</summary>
    private static bool WantsBase64(IQueryCollection query) => query.TryGetValue("b64", out var b64) && !StringValues.IsNullOrEmpty(b64) && b64[0]!.Length > 0;

    /// <summary>
    /// A copy of request headers (Kestrel reuses the request's own collection for the next request), sized exactly
    /// so that a long-lived session does not keep a half-empty entry array.
    /// </summary>
    internal static HeaderDictionary CopyHeaders(IHeaderDictionary source)
    {
        var headers = new HeaderDictionary(source.Count);
        foreach (var header in source)
        {
            headers[header.Key] = header.Value;
        }

        return headers;
    }

    /// <summary>
    /// The query string with case-sensitive keys, as Node's <c>querystring</c> parses it (ASP.NET Core's own
    /// <see cref="HttpRequest.Query"/> merges <c>Token</c> and <c>token</c>); a repeated key keeps every value.
    /// </summary>
    internal static QueryCollection ParseQuery(QueryString queryString)
    {
        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (queryString.HasValue)
        {
            foreach (var pair in new QueryStringEnumerable(queryString.Value))
            {
                var name = pair.DecodeName().ToString();
                var value = pair.DecodeValue().ToString();
                query[name] = query.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
            }
        }

        query.TrimExcess();
        return new QueryCollection(query);
    }

    private EngineRequestInfo CaptureRequest(HttpContext context)
    {
        var request = context.Request;
        var headers = CopyHeaders(request.Headers);
        var query = ParseQuery(request.QueryString);
        return new EngineRequestInfo(headers, query, context.Connection.RemoteIpAddress, context.User,
            request.IsHttps, string.Concat(request.PathBase.Value, request.Path.Value, request.QueryString.Value), _time.GetUtcNow());
    }

    /// <summary>Closes every session with <c>server shutting down</c> and stops the heartbeat timer.</summary>
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }

        _disposed = true;
        _sweepTimer.Dispose();
        foreach (var pair in _sessions)
        {
            pair.Value.Abort(EngineCloseReasons.ServerShuttingDown);
        }

        return ValueTask.CompletedTask;
    }
}
