using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Server.Hosting;
using Herald.SocketIO;
using Microsoft.Extensions.Options;

namespace Herald.Server.Api;

/// <summary>Shared parsing for the built-in commands.</summary>
internal static class CommandBody
{
    public static T Parse<T>(JsonElement body, JsonTypeInfo<T> type)
        where T : class
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new HubCommandException("The body must be a JSON object.");
        }

        try
        {
            return body.Deserialize(type) ?? throw new HubCommandException("The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new HubCommandException("Invalid body: " + e.Message, e);
        }
    }

    public static string[] Names(string[]? names, string field, HubLimitsOptions limits)
    {
        if (names is null)
        {
            return [];
        }

        CheckCount(names.Length, field, limits.MaxListItems, "Herald:Limits:MaxListItems");
        foreach (var n in names)
        {
            if (string.IsNullOrEmpty(n))
            {
                throw new HubCommandException($"'{field}' must not contain empty names.");
            }
        }

        return names;
    }

    public static string[] Required(string[]? names, string field, HubLimitsOptions limits)
        => Names(names, field, limits) is { Length: > 0 } list ? list : throw new HubCommandException($"'{field}' must list at least one name.");

    /// <summary>Refuses a list longer than its cap (every list of a request has one, so the work stays bounded).</summary>
    public static void CheckCount(int count, string field, int max, string setting)
    {
        if (count > max)
        {
            throw new HubCommandException($"'{field}' holds at most {max} items ({setting}); this one has {count}.");
        }
    }

    /// <summary>The arguments as objects, within Herald:Limits:MaxListItems.</summary>
    public static object?[] Args(JsonElement[]? args, HubLimitsOptions limits)
    {
        if (args is null)
        {
            return [];
        }

        CheckCount(args.Length, "args", limits.MaxListItems, "Herald:Limits:MaxListItems");
        var result = new object?[args.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = args[i];
        }

        return result;
    }

    public static void CheckNode(string? node)
    {
        if (node is not null && !HeraldNode.IsValidName(node))
        {
            throw new HubCommandException($"'{node}' is not a valid node name.");
        }
    }
}

/// <summary><c>emit</c>: through <see cref="SocketIOEmitter"/>, so every node's cluster adapter delivers it to its clients.</summary>
internal sealed class EmitCommand(SocketIOEmitter ws, HubNamespaces namespaces, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "emit";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.EmitRequest);
        if (string.IsNullOrEmpty(r.Event))
        {
            throw new HubCommandException("'event' is required.");
        }

        var ns = namespaces.Check(r.Namespace);
        CommandBody.CheckNode(r.Node);
        var op = ws.Of(ns);
        if (r.Node is not null)
        {
            op = op.Via(r.Node);
        }

        if (CommandBody.Names(r.Rooms, "rooms", options.Value.Limits) is { Length: > 0 } rooms)
        {
            op = op.To(rooms);
        }

        if (CommandBody.Names(r.Except, "except", options.Value.Limits) is { Length: > 0 } except)
        {
            op = op.Except(except);
        }

        if (r.Volatile)
        {
            op = op.Volatile;
        }

        var args = CommandBody.Args(r.Args, options.Value.Limits);
        try
        {
            await op.EmitAsync(r.Event, args);
        }
        catch (ArgumentException e)
        {
            throw new HubCommandException(e.Message, e);
        }
    }
}

/// <summary><c>sse</c>: through <see cref="SseEmitter"/>, to the SSE clients of every node (or one).</summary>
internal sealed class SseSendCommand(SseEmitter sse, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "sse";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SseRequest);
        CommandBody.CheckNode(r.Node);
        object? data = r.Data is { ValueKind: JsonValueKind.String } s ? s.GetString() : r.Data;
        var to = CommandBody.Names(r.To, "to", options.Value.Limits);
        try
        {
            if (r.Node is null && to.Length == 0)
            {
                await (r.Event is null ? sse.SendAsync(data, cancellationToken) : sse.EmitAsync(r.Event, data, cancellationToken));
                return;
            }

            var op = r.Node is null ? sse.To(to) : sse.Via(r.Node);
            if (r.Node is not null && to.Length > 0)
            {
                op = op.To(to);
            }

            await (r.Event is null ? op.SendAsync(data, cancellationToken) : op.EmitAsync(r.Event, data, cancellationToken));
        }
        catch (ArgumentException e)
        {
            throw new HubCommandException(e.Message, e);
        }
    }
}

/// <summary><c>sse-close</c>: closes SSE clients for good, through <see cref="SseEmitter"/>.</summary>
internal sealed class SseCloseCommand(SseEmitter sse, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "sse-close";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SseCloseRequest);
        CommandBody.CheckNode(r.Node);
        var to = CommandBody.Names(r.To, "to", options.Value.Limits);
        if (r.Node is null && to.Length == 0)
        {
            await sse.CloseAsync(cancellationToken);
            return;
        }

        var op = r.Node is null ? sse.To(to) : sse.Via(r.Node);
        if (r.Node is not null && to.Length > 0)
        {
            op = op.To(to);
        }

        await op.CloseAsync(cancellationToken);
    }
}

/// <summary><c>publish</c>: a message-channel topic (<c>IMessageChannel.PublishAsync</c>).</summary>
internal sealed class TopicPublishCommand(IMessageChannel channel) : IHubCommand
{
    public string Name => "publish";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.TopicRequest);
        if (string.IsNullOrEmpty(r.Topic))
        {
            throw new HubCommandException("'topic' is required.");
        }

        try
        {
            await channel.PublishAsync(r.Topic, r.Data, cancellationToken: cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new HubCommandException(e.Message, e);
        }
    }
}

/// <summary><c>disconnect</c>: the namespace's adapter forwards it to every node.</summary>
internal sealed class DisconnectCommand(HubNamespaces namespaces, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "disconnect";

    public ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.DisconnectRequest);
        var sockets = CommandBody.Required(r.Sockets, "sockets", options.Value.Limits);
        namespaces.Existing(r.Namespace).To(sockets).DisconnectSockets(r.Close);
        return ValueTask.CompletedTask;
    }
}

/// <summary><c>sockets-join</c>: the namespace's adapter forwards it to every node.</summary>
internal sealed class SocketsJoinCommand(HubNamespaces namespaces, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "sockets-join";

    public ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SocketsRoomsRequest);
        namespaces.Existing(r.Namespace).To(CommandBody.Required(r.Sockets, "sockets", options.Value.Limits)).SocketsJoin(CommandBody.Required(r.Rooms, "rooms", options.Value.Limits));
        return ValueTask.CompletedTask;
    }
}

/// <summary><c>sockets-leave</c>: the namespace's adapter forwards it to every node.</summary>
internal sealed class SocketsLeaveCommand(HubNamespaces namespaces, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "sockets-leave";

    public ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SocketsRoomsRequest);
        namespaces.Existing(r.Namespace).To(CommandBody.Required(r.Sockets, "sockets", options.Value.Limits)).SocketsLeave(CommandBody.Required(r.Rooms, "rooms", options.Value.Limits));
        return ValueTask.CompletedTask;
    }
}
