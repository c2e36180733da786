namespace Herald.Messaging.Emitters;

/// <summary>
/// The <c>IMessageBus</c> channels that carry SSE envelopes (<c>sse-send</c>, <c>sse-close</c>). A publication for
/// every node goes on <see cref="All"/>; one for a single node (<c>Via("web-server-1")</c>) on
/// <c>sse:web-server-1</c>, so on Redis it reaches that node only instead of being filtered by every node.
/// </summary>
/// <remarks>
/// The envelope is the JSON of <c>ClusterEnvelopeCodec</c>, with <c>kind</c> <c>sse-send</c> or <c>sse-close</c>,
/// <c>rooms</c> the client ids or topics (empty: every client), <c>target</c> the node or absent, and for
/// <c>sse-send</c> a <c>packet</c> <c>{"event":"greeting","data":...}</c>: <c>event</c> optional (default
/// <c>message</c>), <c>data</c> a JSON string sent as-is or any other JSON value sent as its JSON text. Any system
/// can publish it, e.g. <c>PUBLISH herald:sse '{"source":"cron","kind":"sse-send","packet":{"data":"hi"}}'</c>.
/// An <c>id</c> in the packet is ignored: event ids are assigned by the node that holds the client, so that
/// <c>Last-Event-ID</c> replay stays consistent.
/// </remarks>
public static class SseBusChannels
{
    /// <summary>The channel every SSE node subscribes to.</summary>
    public const string All = "sse";

    /// <summary>The channel of one node.</summary>
    /// <param name="nodeName">The node name.</param>
    /// <returns><c>sse:{nodeName}</c>.</returns>
    public static string ForNode(string nodeName) => All + ":" + nodeName;
}
