using System.Text.Json.Serialization;

namespace Herald.Sessions;

/// <summary>What changed in a session.</summary>
internal enum SessionChangeOp
{
    Subscribe,
    Unsubscribe,
    Reset,
    User,
}

/// <summary>
/// A session change on the bus channel <see cref="HeraldSessionOptions.BusChannel"/>:
/// <c>{"node":"web-1","sid":"…","op":"subscribe","values":["disney"]}</c>, <c>op</c> one of <c>subscribe</c>,
/// <c>unsubscribe</c>, <c>reset</c> (values empty), <c>user</c> (values: the new user id, or empty on sign-out).
/// Every node applies it to its own sockets and EventSources of that session; the store already holds it.
/// </summary>
internal sealed record SessionChangeMessage(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("sid")] string SessionId,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("values")] string[] Values)
{
    public static string OpName(SessionChangeOp op) => op switch
    {
        SessionChangeOp.Subscribe => "subscribe",
        SessionChangeOp.Unsubscribe => "unsubscribe",
        SessionChangeOp.Reset => "reset",
        _ => "user",
    };

    public static bool TryParseOp(string? name, out SessionChangeOp op)
    {
        switch (name)
        {
            case "subscribe": op = SessionChangeOp.Subscribe; return true;
            case "unsubscribe": op = SessionChangeOp.Unsubscribe; return true;
            case "reset": op = SessionChangeOp.Reset; return true;
            case "user": op = SessionChangeOp.User; return true;
            default: op = default; return false;
        }
    }
}

[JsonSerializable(typeof(SessionChangeMessage))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
