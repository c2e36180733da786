using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Sse;

/// <summary>Options of the Server-Sent Events endpoint (<c>services.AddServerSentEvents(o => ...)</c>).</summary>
public sealed class SseOptions
{
    /// <summary>The <c>retry:</c> hint sent first on every connection: how long an EventSource waits before reconnecting. Default 3 s.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How often a comment line is written to every connection so proxies and load balancers keep it open and dead
    /// peers are detected. One shared timer serves all clients. Default 15 s.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a disconnected client's session (id, topics, missed events) is kept for a reconnect carrying
    /// <c>Last-Event-ID</c>; events older than this are not replayed. Beyond it the client gets <c>herald:missed</c>.
    /// Default 2 min.
    /// </summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Events kept per history (all clients, each topic, each client's direct events). Default 256. Zero disables replay.</summary>
    public int MaxHistory { get; set; } = 256;

    /// <summary>How long the id of a client closed by the server is remembered, so its reconnect gets 204 and EventSource stops. Default 5 min.</summary>
    public TimeSpan ClosedClientRetention { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Bytes that may wait in one client's queue; beyond it the client is disconnected as too slow. Default 1 MiB.</summary>
    public long MaxQueuedBytes { get; set; } = 1024 * 1024;

    /// <summary>Frames that may wait in one client's queue; beyond it the client is disconnected as too slow. Default 4096.</summary>
    public int MaxQueuedMessages { get; set; } = 4096;

    /// <summary>Open connections accepted at once; further connections get 503. Default 100 000.</summary>
    public int MaxClients { get; set; } = 100_000;

    /// <summary>
    /// Disconnected clients kept at once, for a resume within <see cref="ReplayWindow"/> or remembered as closed
    /// (<see cref="ClosedClientRetention"/>). Beyond it the client that disconnected longest ago is forgotten first, so
    /// connecting and dropping in a loop cannot grow memory without bound (its reconnect then starts over with
    /// <c>herald:missed</c>). Default 100 000.
    /// </summary>
    public int MaxDisconnectedClients { get; set; } = 100_000;

    /// <summary>Topics one client may request in the query (<c>?topic=a&amp;topic=b</c>); more is a 400. Default 32.</summary>
    public int MaxTopicsPerRequest { get; set; } = 32;

    /// <summary>Length limit of a topic name or a client id. Default 256.</summary>
    public int MaxNameLength { get; set; } = 256;

    /// <summary>
    /// Origins allowed to connect cross-origin (exact match, e.g. <c>https://app.example.com</c>). A listed origin gets
    /// <c>Access-Control-Allow-Origin</c> echoed with <c>Access-Control-Allow-Credentials: true</c> (cookies work with
    /// <c>new EventSource(url, { withCredentials: true })</c>). <c>*</c> allows any origin but without credentials.
    /// When the list is not empty, a request with an unlisted <c>Origin</c> gets 403. Empty (default): no CORS headers.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// Decides whether a request may connect and may supply the client id and topics; <c>null</c> (default) accepts
    /// everyone with a server-assigned id. A rejection ends the request with its status code (EventSource then stops).
    /// </summary>
    public Func<HttpContext, ValueTask<SseAuthorizationResult>>? Authorize { get; set; }

    /// <summary>
    /// Decides whether the client may join a topic it asked for in the query. <c>null</c> (default) allows every
    /// requested topic except the reserved <c>herald:*</c> names (always a 400) and the id of a current client (always
    /// a 403): requested topics are public feeds, so set this hook when some are not. One refused topic refuses the whole connection with 403: a client silently missing a feed is
    /// a worse failure than a visible one, and EventSource stops on 403 instead of retrying forever.
    /// </summary>
    public Func<HttpContext, string, ValueTask<bool>>? AuthorizeTopic { get; set; }

    /// <summary>Name of the query parameter carrying requested topics. Default <c>topic</c>.</summary>
    public string TopicQueryName { get; set; } = "topic";

    /// <summary>
    /// Name of a query parameter that may carry the last event id, for clients that cannot send the
    /// <c>Last-Event-ID</c> header (polyfills, a first connection resuming a stored id). Default <c>lastEventId</c>.
    /// </summary>
    public string LastEventIdQueryName { get; set; } = "lastEventId";

    /// <summary>
    /// The secret behind resume tokens: every <c>id:</c> line ends with the client's resume token (not its id), and the
    /// client id is an HMAC of the token and the owner under this key, so knowing a client id is not enough to resume
    /// it, and a token replayed under another owner (session) is a new client. <c>null</c> (default): a random key per
    /// process, so a reconnect to another node is not resumed (<c>herald:missed</c> <c>unknown</c>, fresh id). With a shared <see cref="ISseHistoryStore"/>, set the same key (at least 32
    /// characters, a secret) on every node. Changing it makes every open stream start over on its next reconnect.
    /// </summary>
    public string? ResumeKey { get; set; }

    /// <summary>How data objects other than strings are serialized. Default: System.Text.Json web defaults (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = JsonSerializerOptions.Web;

    /// <summary>The clock for heartbeats, replay windows and retention (tests inject a manual one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
