using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Server.Api;

/// <summary>
/// <c>POST /api/emit</c>: a Socket.IO event to the clients of a namespace, through the cluster (every node, or
/// <see cref="Node"/> only).
/// </summary>
/// <param name="Event">The event name (not a reserved one such as <c>connect</c>).</param>
/// <param name="Args">The event arguments, as JSON values (the client's handler receives them in order).</param>
/// <param name="Namespace">The namespace (default <c>/</c>).</param>
/// <param name="Rooms">Rooms or socket ids to reach (union); empty: every client of the namespace.</param>
/// <param name="Except">Rooms or socket ids to skip.</param>
/// <param name="Node">Only the clients of this node.</param>
/// <param name="Volatile">May be dropped for clients that cannot take it now.</param>
public sealed record EmitRequest(string Event, JsonElement[]? Args = null, string? Namespace = null, string[]? Rooms = null, string[]? Except = null, string? Node = null, bool Volatile = false);

/// <summary><c>POST /api/sse</c>: an event to SSE clients (every client, or the clients and topics of <see cref="To"/>).</summary>
/// <param name="Data">The data: a JSON string is sent as-is, any other JSON value as JSON text.</param>
/// <param name="Event">The event type; omitted: a <c>message</c> event.</param>
/// <param name="To">Client ids or topics (union); empty: every SSE client.</param>
/// <param name="Node">Only the clients of this node.</param>
public sealed record SseRequest(JsonElement? Data = null, string? Event = null, string[]? To = null, string? Node = null);

/// <summary><c>POST /api/sse-close</c>: closes SSE clients for good (their EventSource stops reconnecting).</summary>
/// <param name="To">Client ids or topics; empty: every SSE client.</param>
/// <param name="Node">Only the clients of this node.</param>
public sealed record SseCloseRequest(string[]? To = null, string? Node = null);

/// <summary><c>POST /api/publish</c>: a message on a message-channel topic (<c>app.message.publish</c>).</summary>
/// <param name="Topic">The topic (<c>greeting</c>).</param>
/// <param name="Data">The message, any JSON value.</param>
public sealed record TopicRequest(string Topic, JsonElement Data);

/// <summary><c>POST /api/disconnect</c>: disconnects the Socket.IO sockets in any of <see cref="Sockets"/>, on every node.</summary>
/// <param name="Sockets">Socket ids or rooms (required: use a room every socket is in to disconnect all).</param>
/// <param name="Namespace">The namespace (default <c>/</c>).</param>
/// <param name="Close">Also close the underlying connection (every namespace of that client).</param>
public sealed record DisconnectRequest(string[] Sockets, string? Namespace = null, bool Close = false);

/// <summary><c>POST /api/sockets-join</c> and <c>/api/sockets-leave</c>: makes the matching sockets join or leave rooms, on every node.</summary>
/// <param name="Sockets">Socket ids or rooms selecting the sockets.</param>
/// <param name="Rooms">The rooms to join or leave.</param>
/// <param name="Namespace">The namespace (default <c>/</c>).</param>
public sealed record SocketsRoomsRequest(string[] Sockets, string[] Rooms, string? Namespace = null);

/// <summary><c>POST /api/batch</c>: several commands, run in order; each element names its command in <c>type</c>.</summary>
/// <param name="Commands">The commands: <c>{"type": "emit", "event": "...", ...}</c>.</param>
public sealed record BatchRequest(JsonElement[] Commands);

/// <summary>The outcome of one command.</summary>
/// <param name="Ok">Whether it was carried out.</param>
/// <param name="Error">Why not.</param>
public sealed record CommandResult(bool Ok, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);

/// <summary>The outcome of a batch, one result per command in order.</summary>
/// <param name="Results">The results.</param>
public sealed record BatchResult(CommandResult[] Results);

/// <summary><c>POST /api/channel</c>, <c>/api/user</c>, <c>/api/all</c>: an event to session channels, users or every session.</summary>
/// <param name="Event">The event name.</param>
/// <param name="Args">The event arguments, as JSON values (for <c>channel</c> the channel name is appended as the last one).</param>
/// <param name="Channels">For <c>channel</c>: the channels (a session in several gets the event once).</param>
/// <param name="Users">For <c>user</c>: the user ids.</param>
public sealed record SessionPublishRequest(string Event, JsonElement[]? Args = null, string[]? Channels = null, string[]? Users = null)
{
    internal static string EventOf(SessionPublishRequest r)
        => string.IsNullOrEmpty(r.Event) ? throw new HubCommandException("'event' is required.") : r.Event;

    internal static object?[] ArgsOf(SessionPublishRequest r)
    {
        if (r.Args is null)
        {
            return [];
        }

        var args = new object?[r.Args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = r.Args[i];
        }

        return args;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EmitRequest))]
[JsonSerializable(typeof(SessionPublishRequest))]
[JsonSerializable(typeof(SseRequest))]
[JsonSerializable(typeof(SseCloseRequest))]
[JsonSerializable(typeof(TopicRequest))]
[JsonSerializable(typeof(DisconnectRequest))]
[JsonSerializable(typeof(SocketsRoomsRequest))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(BatchResult))]
internal sealed partial class HubApiJsonContext : JsonSerializerContext;
