using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Messaging;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.Sse;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Identity;

/// <summary>What a server-side command does to the connections of some users.</summary>
public enum UserCommand
{
    /// <summary>Join channels.</summary>
    Subscribe,

    /// <summary>Leave channels.</summary>
    Unsubscribe,

    /// <summary>Leave the user's room: user-addressed messages stop reaching these connections.</summary>
    SignOut,

    /// <summary>Disconnect (Socket.IO) and close (SSE) the connections.</summary>
    Disconnect,
}

public sealed partial class HeraldIdentityManager
{
    /// <summary>The most users, and the most channels, one server-side command may name (256 each).</summary>
    public const int MaxNamesPerCommand = 256;

    private readonly HashSet<SseClient> _sseClients = [];
    private readonly Lock _sseLock = new();
    private IAsyncDisposable? _busSubscription;
    private IMessageBus? _bus;
    private SocketIOServer? _io;

    /// <summary>
    /// Applies <paramref name="command"/> to every connection of <paramref name="users"/> (sockets in the
    /// <see cref="HeraldOptionsNamespaces"/> and EventSources in the user's room) on this node, then on every other node
    /// through the bus channel <see cref="BusChannel"/>. The session store is not changed: a browser session signed in
    /// with <c>SetUserIdAsync</c> joins its user's room again on its next connect.
    /// </summary>
    /// <param name="command">What to do.</param>
    /// <param name="users">The user ids (1 to <see cref="MaxNamesPerCommand"/>).</param>
    /// <param name="channels">The channels, for <see cref="UserCommand.Subscribe"/> and <see cref="UserCommand.Unsubscribe"/>.</param>
    /// <param name="cancellationToken">Cancels the bus publication.</param>
    /// <returns>A task completing once applied here and published for the other nodes.</returns>
    /// <exception cref="ArgumentException">A list is empty, too long, or holds an invalid name.</exception>
    public async ValueTask RunAsync(UserCommand command, IReadOnlyList<string> users, IReadOnlyList<string>? channels = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        channels ??= [];
        Check(users, "users", required: true);
        Check(channels, "channels", required: command is UserCommand.Subscribe or UserCommand.Unsubscribe);
        ApplyLocal(command, users, channels);
        if (_bus is { } bus)
        {
            var message = new UserCommandMessage(bus.NodeName, command.ToString().ToLowerInvariant(), [.. users], [.. channels]);
            await bus.PublishAsync(BusChannel, JsonSerializer.SerializeToUtf8Bytes(message, IdentityJsonContext.Default.UserCommandMessage), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The prefix of identity rooms, <c>herald:id:{user}</c>: every connection whose token or connect proxy named the user is in it for its lifetime.</summary>
    public const string IdentityRoomPrefix = "herald:id:";

    /// <summary>The identity room of <paramref name="userId"/>.</summary>
    /// <param name="userId">The user id.</param>
    /// <returns>The room (topic) name.</returns>
    public static string IdentityRoom(string userId) => IdentityRoomPrefix + userId;

    /// <summary>The bus channel that carries server-side user commands between nodes (<c>identity</c>; on Redis under the bus prefix).</summary>
    public const string BusChannel = "identity";

    /// <summary>The namespaces the identity layer serves (<see cref="HeraldIdentityOptions.Namespaces"/>).</summary>
    private IList<string> HeraldOptionsNamespaces => Options.Namespaces;

    private static void Check(IReadOnlyList<string> names, string what, bool required)
    {
        if (required && names.Count == 0)
        {
            throw new ArgumentException($"'{what}' must name at least one.", what);
        }

        if (names.Count > MaxNamesPerCommand)
        {
            throw new ArgumentException($"'{what}' may name at most {MaxNamesPerCommand}.", what);
        }

        foreach (var name in names)
        {
            if (!HeraldRooms.IsValidName(name))
            {
                throw new ArgumentException($"Each of '{what}' is 1 to {HeraldRooms.MaxNameLength} characters with no control character.", what);
            }
        }
    }

    private async Task StartBusAsync(CancellationToken cancellationToken)
    {
        _io = _services?.GetService<SocketIOServer>();
        if (_services?.GetService<IMessageBus>() is { } bus)
        {
            _bus = bus;
            _busSubscription = await bus.SubscribeAsync(BusChannel, OnBusMessage, cancellationToken).ConfigureAwait(false);
            await StartPresenceAsync(bus, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopBusAsync()
    {
        if (Interlocked.Exchange(ref _busSubscription, null) is { } subscription)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        await StopPresenceAsync().ConfigureAwait(false);
    }

    private ValueTask OnBusMessage(BusMessage message)
    {
        UserCommandMessage? m;
        try
        {
            m = JsonSerializer.Deserialize(message.Payload.Span, IdentityJsonContext.Default.UserCommandMessage);
        }
        catch (JsonException e)
        {
            IdentityLog.BadCommand(_logger, e.Message);
            return ValueTask.CompletedTask;
        }

        if (m is null || m.Node is null || m.Users is null || m.Channels is null || !Enum.TryParse<UserCommand>(m.Op, ignoreCase: true, out var command))
        {
            IdentityLog.BadCommand(_logger, "missing or invalid field");
            return ValueTask.CompletedTask;
        }

        if (m.Node == _bus?.NodeName)
        {
            return ValueTask.CompletedTask; // applied before publishing
        }

        try
        {
            Check(m.Users, "users", required: true);
            Check(m.Channels, "channels", required: false);
        }
        catch (ArgumentException e)
        {
            IdentityLog.BadCommand(_logger, e.Message);
            return ValueTask.CompletedTask;
        }

        ApplyLocal(command, m.Users, m.Channels);
        return ValueTask.CompletedTask;
    }

    /// <summary>Applies a command to this node's sockets (through the adapter's local operations) and EventSources.</summary>
    private void ApplyLocal(UserCommand command, IReadOnlyList<string> users, IReadOnlyList<string> channels)
    {
        // Targets: the user's room (every connection signed in as the user, tokens and sessions alike) and the
        // identity room (connections whose token or connect proxy named the user, still there after a sign-out).
        var userRooms = new string[users.Count];
        var targets = new string[users.Count * 2];
        for (var i = 0; i < users.Count; i++)
        {
            userRooms[i] = HeraldRooms.User(users[i]);
            targets[2 * i] = userRooms[i];
            targets[(2 * i) + 1] = IdentityRoom(users[i]);
        }

        var channelRooms = new string[channels.Count];
        for (var i = 0; i < channels.Count; i++)
        {
            channelRooms[i] = HeraldRooms.Channel(channels[i]);
        }

        if (_io is { } io)
        {
            foreach (var ns in HeraldOptionsNamespaces)
            {
                var target = io.Of(ns).Local.In(targets);
                switch (command)
                {
                    case UserCommand.Subscribe:
                        target.SocketsJoin(channelRooms);
                        break;
                    case UserCommand.Unsubscribe:
                        target.SocketsLeave(channelRooms);
                        break;
                    case UserCommand.SignOut:
                        target.SocketsLeave(userRooms);
                        break;
                    case UserCommand.Disconnect:
                        target.DisconnectSockets(close: false);
                        break;
                }
            }
        }

        // EventSources: a scan of this node's clients (server-side commands are rare; delivery never scans).
        SseClient[] clients;
        lock (_sseLock)
        {
            clients = [.. _sseClients];
        }

        foreach (var client in clients)
        {
            var topics = client.Topics;
            var match = false;
            foreach (var room in targets)
            {
                if (topics.Contains(room))
                {
                    match = true;
                    break;
                }
            }

            if (!match)
            {
                continue;
            }

            switch (command)
            {
                case UserCommand.Subscribe:
                    Array.ForEach(channelRooms, client.Join);
                    break;
                case UserCommand.Unsubscribe:
                    Array.ForEach(channelRooms, client.Leave);
                    break;
                case UserCommand.SignOut:
                    Array.ForEach(userRooms, client.Leave);
                    break;
                case UserCommand.Disconnect:
                    client.Close();
                    break;
            }
        }
    }

    private void TrackSse(SseClient client, bool connected)
    {
        lock (_sseLock)
        {
            if (connected)
            {
                _sseClients.Add(client);
            }
            else
            {
                _sseClients.Remove(client);
            }
        }
    }

    internal sealed record UserCommandMessage(
        [property: JsonPropertyName("node")] string Node,
        [property: JsonPropertyName("op")] string Op,
        [property: JsonPropertyName("users")] string[] Users,
        [property: JsonPropertyName("channels")] string[] Channels);
}

[JsonSerializable(typeof(HeraldIdentityManager.UserCommandMessage))]
[JsonSerializable(typeof(HeraldIdentityManager.PresenceRequest))]
[JsonSerializable(typeof(HeraldIdentityManager.PresenceReply))]
internal sealed partial class IdentityJsonContext : JsonSerializerContext;
