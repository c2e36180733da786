using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Publish;

/// <summary>
/// SocketStream's <c>ss.publish</c> and Estate's <c>sendMessage</c>, from any process that shares the bus (a web
/// server, a worker with no web server): <see cref="AllAsync"/>, <see cref="ChannelAsync(string, string, object?[])"/>,
/// <see cref="UserAsync(string, string, object?[])"/>, <see cref="SocketIdAsync"/> and
/// <see cref="SendMessageAsync(MessageSource, Message)"/>. Each reaches Socket.IO sockets and SSE clients alike.
/// </summary>
/// <remarks>
/// <para>Every call becomes cluster envelopes on the bus (the same ones <see cref="SocketIOEmitter"/> and the SSE emitter
/// publish), addressed to the reserved rooms of <see cref="HeraldRooms"/>; the web nodes' cluster adapters and SSE
/// consumers deliver them to their local clients. Nothing is stored: a client that is offline misses the event.</para>
/// <para>Socket.IO clients get <c>[event, ...args]</c>; SSE clients get an event of that name whose data is the JSON
/// array of the arguments. For a channel publication the channel name is appended as the last argument.</para>
/// <para>Channel union: a client in several of the targeted channels gets the event once, with the name of the FIRST
/// of the targeted channels (in the order given) that it is in. This is done with one envelope per channel,
/// each excluding the rooms of the channels before it, so a broadcast of k channels costs k bus messages
/// (per transport), still independent of the number of clients and nodes.</para>
/// </remarks>
public sealed class Publisher
{
    /// <summary>The event name of typed messages: <c>herald:message</c>.</summary>
    public const string MessageEventName = "herald:message";

    private readonly SocketIOEmitter _ws;
    private readonly SseEmitter _sse;

    /// <summary>Creates the publisher.</summary>
    /// <param name="bus">The bus shared with the web servers.</param>
    /// <param name="ws">The Socket.IO emitter (created over <paramref name="bus"/> when null).</param>
    /// <param name="options">Messaging options: their serializer options serialize arguments and messages.</param>
    /// <param name="publisherOptions">Publisher options (namespace, SSE).</param>
    /// <param name="sse">The SSE emitter (created over <paramref name="bus"/> when null).</param>
    public Publisher(IMessageBus bus, SocketIOEmitter? ws = null, IOptions<HeraldMessagingOptions>? options = null, IOptions<PublisherOptions>? publisherOptions = null, SseEmitter? sse = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _ws = ws ?? new SocketIOEmitter(bus, options);
        _sse = sse ?? new SseEmitter(bus, options);
        Options = publisherOptions?.Value ?? new PublisherOptions();
    }

    /// <summary>The settings.</summary>
    public PublisherOptions Options { get; }

    /// <summary>Sends <c>[eventName, ...args]</c> to every connected client (<c>ss.publish.all</c>).</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public async ValueTask AllAsync(string eventName, params object?[] args)
    {
        ThrowIfInvalidForSse(eventName);
        args ??= [null];
        await _ws.Of(Options.Namespace).EmitAsync(eventName, args).ConfigureAwait(false);
        await PublishSseAsync([], [], eventName, args, null).ConfigureAwait(false);
    }

    /// <summary>Sends to the sessions subscribed to <paramref name="channel"/>; handlers get the channel name as the last argument.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask ChannelAsync(string channel, string eventName, params object?[] args) => ChannelAsync([channel], eventName, args);

    /// <summary>
    /// Sends to the sessions subscribed to any of <paramref name="channels"/> (<c>ss.publish.channel(['a','b'], ...)</c>):
    /// each client once, with the first of <paramref name="channels"/> it is in as the last argument.
    /// </summary>
    /// <param name="channels">The channels, in priority order.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took every envelope.</returns>
    public async ValueTask ChannelAsync(IEnumerable<string> channels, string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(channels);
        SocketIOEmitter.ThrowIfReserved(eventName);
        ThrowIfInvalidForSse(eventName);
        args ??= [null];
        var rooms = new List<string>();
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            var room = HeraldRooms.Channel(channel);
            if (seen.Add(room))
            {
                rooms.Add(room);
                names.Add(channel);
            }
        }

        var withChannel = new object?[args.Length + 1];
        args.CopyTo(withChannel, 0);
        for (var i = 0; i < rooms.Count; i++)
        {
            withChannel[^1] = names[i];
            string[] except = [.. rooms.GetRange(0, i)];
            await _ws.Of(Options.Namespace).To(rooms[i]).Except(except).EmitAsync(eventName, withChannel).ConfigureAwait(false);
            await PublishSseAsync([rooms[i]], except, eventName, withChannel, null).ConfigureAwait(false);
        }
    }

    /// <summary>Sends to every session signed in as <paramref name="userId"/> (<c>ss.publish.user</c>).</summary>
    /// <param name="userId">The user id.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask UserAsync(string userId, string eventName, params object?[] args) => UserAsync([userId], eventName, args);

    /// <summary>Sends to every session signed in as any of <paramref name="userIds"/>, each client once.</summary>
    /// <param name="userIds">The user ids.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public async ValueTask UserAsync(IEnumerable<string> userIds, string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        ThrowIfInvalidForSse(eventName);
        args ??= [null];
        string[] rooms = [.. userIds.Select(HeraldRooms.User).Distinct(StringComparer.Ordinal)];
        if (rooms.Length == 0)
        {
            return;
        }

        await _ws.Of(Options.Namespace).To(rooms).EmitAsync(eventName, args).ConfigureAwait(false);
        await PublishSseAsync(rooms, [], eventName, args, null).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends to one client: a Socket.IO socket id or an SSE client id (<c>ss.publish.socketId</c>). Prefer channels: a
    /// socket id changes on every page load.
    /// </summary>
    /// <param name="socketId">The socket or SSE client id.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public async ValueTask SocketIdAsync(string socketId, string eventName, params object?[] args)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketId);
        ThrowIfInvalidForSse(eventName);
        args ??= [null];
        await _ws.Of(Options.Namespace).To(socketId).EmitAsync(eventName, args).ConfigureAwait(false);
        await PublishSseAsync([socketId], [], eventName, args, null).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a typed message from <paramref name="source"/> (Estate's <c>system.sendMessage</c>) to the clients subscribed
    /// to (source, <see cref="Message.MessageType"/>). They get the event <see cref="MessageEventName"/> with one argument
    /// <c>{"source":{"type":"User","key":"42"},"type":"UserAdded","message":{...}}</c>.
    /// </summary>
    /// <param name="source">The sending data or service instance.</param>
    /// <param name="message">The message.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public async ValueTask SendMessageAsync(MessageSource source, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (source.Type is null)
        {
            throw new ArgumentException("The source is empty.", nameof(source));
        }

        var room = HeraldRooms.Message(source, message.MessageType);
        var payload = new MessagePayload(new MessageSourcePayload(source.Type, source.Key), message.MessageType, message);
        await _ws.Of(Options.Namespace).To(room).EmitAsync(MessageEventName, payload).ConfigureAwait(false);
        await PublishSseAsync([room], [], MessageEventName, null, payload).ConfigureAwait(false);
    }

    /// <summary>Sends a typed message from a data or service instance (see <see cref="SendMessageAsync(MessageSource, Message)"/>).</summary>
    /// <param name="source">The sending instance.</param>
    /// <param name="message">The message.</param>
    /// <returns>A task completing when the bus took it.</returns>
    public ValueTask SendMessageAsync(IMessageSource source, Message message) => SendMessageAsync(MessageSource.Of(source), message);

    /// <summary>One <c>sse-send</c> envelope through <see cref="SseEmitter"/>: data is the JSON array of <paramref name="args"/>, or <paramref name="single"/>.</summary>
    private ValueTask PublishSseAsync(string[] rooms, string[] except, string eventName, object?[]? args, object? single)
        => Options.IncludeSse
            ? _sse.PublishAsync(null, rooms, except, ClusterEnvelopeKinds.SseSend, eventName, args ?? single, CancellationToken.None)
            : ValueTask.CompletedTask;

    /// <summary>Rejects, before anything is published, an event name SSE clients cannot get.</summary>
    private void ThrowIfInvalidForSse(string eventName)
    {
        if (Options.IncludeSse)
        {
            SseEmitter.ThrowIfInvalidEventName(eventName);
        }
    }

    // `message` is typed object so that the message is serialised by its runtime type (all its properties).
    private sealed record MessagePayload(MessageSourcePayload Source, string Type, object Message);

    private sealed record MessageSourcePayload(string Type, string Key);
}

/// <summary>Settings of <see cref="Publisher"/>.</summary>
public sealed class PublisherOptions
{
    /// <summary>The Socket.IO namespace of the addressed sockets (default <c>/</c>).</summary>
    public string Namespace { get; set; } = "/";

    /// <summary>Whether publications also go to SSE clients (default true).</summary>
    public bool IncludeSse { get; set; } = true;
}
