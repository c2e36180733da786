namespace Herald.Server.Hosting;

/// <summary>
/// The hub's settings: the <c>Herald</c> section of <c>appsettings.json</c>, environment variables
/// (<c>Herald__NodeName</c>, <c>Herald__Redis__ConnectionString</c>, <c>Herald__ApiKeys__0</c>) and command-line options
/// (<c>--Herald:NodeName=web-1</c>). Checked at start by <see cref="HubOptionsValidator"/>.
/// </summary>
public sealed class HubOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Herald";

    /// <summary>This node's name in the cluster (<c>web-server-1</c>); default: machine name plus a random suffix.</summary>
    public string? NodeName { get; set; }

    /// <summary>Where Socket.IO is served (default <c>/socket.io</c>).</summary>
    public string SocketIOPath { get; set; } = "/socket.io";

    /// <summary>Where Server-Sent Events are served (default <c>/events</c>).</summary>
    public string SsePath { get; set; } = "/events";

    /// <summary>
    /// The Socket.IO namespaces clients may connect to (default <c>/</c> and <c>/chat</c>). An entry ending in <c>*</c>
    /// admits every namespace starting with what precedes it (<c>/tenant-*</c>), created on first connection.
    /// </summary>
    public IList<string> Namespaces { get; set; } = [];

    /// <summary>Cross-origin access for browsers on other origins (Socket.IO and SSE).</summary>
    public HubCorsOptions Cors { get; set; } = new();

    /// <summary>Size limits.</summary>
    public HubLimitsOptions Limits { get; set; } = new();

    /// <summary>Redis: when a connection string is set, the hub joins the cluster of every node sharing that Redis.</summary>
    public HubRedisOptions Redis { get; set; } = new();

    /// <summary>Other nodes whose channel endpoint this hub links to (decentralised message channel).</summary>
    public IList<HubPeerLinkOptions> PeerLinks { get; set; } = [];

    /// <summary>
    /// The cluster's secret (at least 32 characters), the same on every node: the <c>herald.sid</c> cookie's signing key
    /// and the SSE resume key are derived from it (HKDF-SHA256, one label each), so a cookie or an EventSource that moves
    /// to another node keeps its session and resumes. Explicit <c>Herald:Sessions:SigningKey</c> and
    /// <c>Herald:Sse:ResumeKey</c> win. Unset: random keys per process (one node needs nothing more).
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>The shared key of peer links: when set, this hub serves its channel at <c>/herald/channel</c> and uses it for its own links.</summary>
    public string? ChannelKey { get; set; }

    /// <summary>Keys accepted by the HTTP publish API and the dashboard (<c>Authorization: Bearer KEY</c> or <c>X-Herald-Key: KEY</c>); at least 16 characters each.</summary>
    public IList<string> ApiKeys { get; set; } = [];

    /// <summary>Dashboard settings.</summary>
    public HubAdminOptions Admin { get; set; } = new();

    /// <summary>Demo page settings.</summary>
    public HubDemoOptions Demo { get; set; } = new();

    /// <summary>Who connects: tokens, proxy hooks, the user API (<c>Herald:Identity</c>; see <see cref="HubIdentityOptions"/>).</summary>
    public HubIdentityOptions Identity { get; set; } = new();

    /// <summary>Metrics export over OTLP.</summary>
    public HubOpenTelemetryOptions OpenTelemetry { get; set; } = new();

    /// <summary><c>Herald:ForwardedHeaders</c>: trust <c>X-Forwarded-*</c> from the proxy in front of the hub (off by default).</summary>
    public HubForwardedHeadersOptions ForwardedHeaders { get; set; } = new();

    /// <summary>The namespaces in force: <see cref="Namespaces"/>, or <c>/</c> and <c>/chat</c> when none is configured.</summary>
    public IReadOnlyList<string> EffectiveNamespaces => Namespaces.Count > 0 ? [.. Namespaces] : ["/", "/chat"];
}

/// <summary>Cross-origin settings (<c>Herald:Cors</c>).</summary>
public sealed class HubCorsOptions
{
    /// <summary>Allowed origins (<c>https://app.example.com</c>) or <c>*</c>; empty (default): same origin only.</summary>
    public IList<string> Origins { get; set; } = [];

    /// <summary>Whether browsers may send cookies cross-origin (not with <c>*</c>).</summary>
    public bool Credentials { get; set; }
}

/// <summary>Size limits (<c>Herald:Limits</c>).</summary>
public sealed class HubLimitsOptions
{
    /// <summary>The largest message a Socket.IO client may send, in bytes (Engine.IO <c>maxHttpBufferSize</c>, default 1,000,000).</summary>
    public int MaxPayloadBytes { get; set; } = 1_000_000;

    /// <summary>The largest HTTP publish API body, in bytes (default 1 MiB).</summary>
    public int MaxPublishBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The most commands in one batch (default 100).</summary>
    public int MaxBatchCommands { get; set; } = 100;

    /// <summary>The most SSE clients kept by this node (default 100,000).</summary>
    public int MaxSseClients { get; set; } = 100_000;

    /// <summary>
    /// The most items in any list of a publish API request: <c>rooms</c>, <c>except</c>, <c>to</c>, <c>sockets</c>,
    /// <c>users</c>, <c>args</c> (default 1,000; at most 10,000, the most rooms a cluster envelope carries). A longer list is
    /// answered 400 naming this setting.
    /// </summary>
    public int MaxListItems { get; set; } = 1000;

    /// <summary>
    /// The most channels in one <c>/api/channel</c> request (default 100, at most 1,000). A client in several gets the event once, with
    /// the first channel's name: that costs one bus message per channel, each excluding the channels before it, so
    /// the work grows with the square of this number; a longer list is answered 400 naming this setting.
    /// </summary>
    public int MaxChannelsPerPublish { get; set; } = 100;
}

/// <summary>Redis settings (<c>Herald:Redis</c>).</summary>
public sealed class HubRedisOptions
{
    /// <summary>A StackExchange.Redis style connection string (<c>localhost:6379,password=x</c>); empty (default): in memory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Prepended to every Redis channel (default <c>herald</c>), so several applications can share one Redis.</summary>
    public string ChannelPrefix { get; set; } = "herald";

    /// <summary>
    /// How many publications the bus keeps while Redis is unreachable, for the other nodes once it is back (default
    /// 10,000; 0: none, and the publish API answers 503 during an outage). See docs/reliability.md.
    /// </summary>
    public int OutageBufferSize { get; set; } = 10_000;

    /// <summary>
    /// The message bus over Redis (<c>Herald:Redis:Bus</c>): <see cref="HubRedisBus.PubSub"/> (default) or
    /// <see cref="HubRedisBus.Streams"/>. See docs/reliability.md for the trade-offs.
    /// </summary>
    public HubRedisBus Bus { get; set; } = HubRedisBus.PubSub;
}

/// <summary>Which Redis message bus the hub uses (<c>Herald:Redis:Bus</c>).</summary>
public enum HubRedisBus
{
    /// <summary>Redis pub/sub (<c>PUBLISH</c>/<c>SUBSCRIBE</c>): lowest latency; an outage longer than the buffer's reach loses what other nodes miss (counted).</summary>
    PubSub,

    /// <summary>Redis Streams (<c>XADD</c>/<c>XREAD</c>): every node reads from its own last id, so an outage shorter than the retention loses nothing.</summary>
    Streams,
}

/// <summary>One peer link (<c>Herald:PeerLinks:0:Name</c>, <c>Herald:PeerLinks:0:Url</c>).</summary>
public sealed class HubPeerLinkOptions
{
    /// <summary>The node name of the peer (<c>web-server-2</c>).</summary>
    public string? Name { get; set; }

    /// <summary>Its channel endpoint (<c>ws://web-server-2:5000/herald/channel</c>).</summary>
    public string? Url { get; set; }
}

/// <summary>Dashboard settings (<c>Herald:Admin</c>).</summary>
public sealed class HubAdminOptions
{
    /// <summary>Whether <c>/admin</c> is served (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Basic-auth user name for the dashboard (with <see cref="Password"/>); API keys are accepted too.</summary>
    public string? Username { get; set; }

    /// <summary>Basic-auth password (at least 12 characters).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Whether the dashboard's sockets view shows the values of each client's handshake <c>auth</c> and query (default
    /// false: the keys are listed, every value is <c>[redacted]</c>, since they usually carry the client's token).
    /// </summary>
    public bool ShowHandshakeSecrets { get; set; }
}

/// <summary>Demo page settings (<c>Herald:Demo</c>).</summary>
public sealed class HubDemoOptions
{
    /// <summary>
    /// Whether the demo page's handlers (<c>/chat</c> rooms, <c>demo:*</c> events) and its SSE clock run (default false;
    /// true in the Development environment through <c>appsettings.Development.json</c>). Even on, demo names are kept
    /// apart from the application's: rooms <c>chat:*</c>, channels and users <c>demo.*</c>.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>How often the demo clock ticks over SSE (default 5 s).</summary>
    public TimeSpan ClockInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Metrics export (<c>Herald:OpenTelemetry</c>).</summary>
public sealed class HubOpenTelemetryOptions
{
    /// <summary>The OTLP/HTTP metrics endpoint (<c>http://collector:4318/v1/metrics</c>); empty (default): no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How often metrics are exported (default 10 s).</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(10);
}
