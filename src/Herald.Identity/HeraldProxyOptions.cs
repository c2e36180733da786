namespace Herald.Identity;

/// <summary>
/// Backend proxy hooks (Centrifugo's connect/subscribe/publish proxies): the hub POSTs JSON to the application and
/// applies its answer, so that a cookie-authenticated application can use the hub without issuing tokens.
/// Every failure (timeout, network error, 5xx after the retries, an answer that is not the expected JSON) refuses:
/// a broken backend never opens the door.
/// </summary>
public sealed class HeraldProxyOptions
{
    /// <summary>
    /// Called for a connection without a token: <c>{"transport":"socket.io"|"sse","namespace":"/","headers":{…}}</c>
    /// (the headers of <see cref="ForwardHeaders"/>). Answer <c>{"result":{"user":"42","channels":["a"]}}</c> to accept
    /// or <c>{"error":{"code":"…","message":"…"}}</c> to refuse. <c>null</c> (default): not called.
    /// </summary>
    public Uri? ConnectUrl { get; set; }

    /// <summary>
    /// Called when a client asks for a channel without a channel token (<c>herald:channel:subscribe {channel}</c>, SSE
    /// <c>?channel=</c>): <c>{"transport":…,"user":"42"|null,"channel":"a"}</c>; answer <c>{"result":{}}</c> to allow.
    /// <c>null</c> (default): such requests are refused.
    /// </summary>
    public Uri? SubscribeUrl { get; set; }

    /// <summary>
    /// Called when a client publishes into a channel (<c>herald:channel:publish {channel, event, data}</c>):
    /// <c>{"transport":"socket.io","user":…,"channel":…,"event":…,"data":…}</c>; answer <c>{"result":{}}</c> to publish
    /// as is or <c>{"result":{"data":…}}</c> to publish that data instead. <c>null</c> (default): clients cannot publish.
    /// </summary>
    public Uri? PublishUrl { get; set; }

    /// <summary>The request headers forwarded to <see cref="ConnectUrl"/> (default <c>Cookie</c> and <c>Authorization</c>); nothing else is sent.</summary>
    public IList<string> ForwardHeaders { get; set; } = ["Cookie", "Authorization"];

    /// <summary>
    /// The cookies forwarded in the <c>Cookie</c> header (e.g. <c>["app.session"]</c>). Empty (default): every cookie
    /// except the hub's own (names starting with <c>herald.</c>, such as the <c>herald.sid</c> session cookie).
    /// </summary>
    public IList<string> ForwardCookies { get; set; } = [];

    /// <summary>Headers the hub adds to every proxy call (e.g. a key the backend checks).</summary>
    public IDictionary<string, string> Headers { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long one call may take (default 3 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Further attempts after a timeout, a network error or a 5xx (default 1); a refusal or a 4xx is not retried.</summary>
    public int Retries { get; set; } = 1;

    /// <summary>How long an answer (allow or refuse) is reused for the same question (default 30 s; zero: no cache). Publish answers are never cached.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most answers cached (default 10,000); the least recently used goes first.</summary>
    public int CacheSize { get; set; } = 10_000;

    /// <summary>The largest answer read, in bytes (default 64 KiB); larger is a failure.</summary>
    public int MaxResponseBytes { get; set; } = 64 * 1024;
}
