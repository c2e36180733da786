using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Messaging;
using Herald.Messaging.Publish;
using Herald.SocketIO.Cluster;

namespace Herald.Identity;

/// <summary>Who is in a channel, across the cluster.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Users">Signed-in users in the channel and their number of connections (at most <see cref="HeraldIdentityManager.MaxPresenceUsers"/>).</param>
/// <param name="AnonymousConnections">Connections in the channel with no user.</param>
/// <param name="Nodes">The nodes that answered (this one included).</param>
/// <param name="Complete">False when a node did not answer in time or the user list was cut at its bound.</param>
public sealed record ChannelPresence(string Channel, IReadOnlyDictionary<string, int> Users, int AnonymousConnections, IReadOnlyList<string> Nodes, bool Complete);

public sealed partial class HeraldIdentityManager
{
    /// <summary>The most distinct users a presence answer lists (1,000); beyond it the answer is marked incomplete.</summary>
    public const int MaxPresenceUsers = 1000;

    private const string PresenceRequestChannel = "identity.presence";
    private readonly ConcurrentDictionary<string, PresenceGather> _presenceRequests = new(StringComparer.Ordinal);
    private IAsyncDisposable? _presenceRequestSubscription;
    private IAsyncDisposable? _presenceReplySubscription;

    /// <summary>
    /// Who is in <paramref name="channel"/>: this node counts its own sockets (identity namespaces) and EventSources in
    /// the channel by user, and asks every other node of the cluster (the nodes the cluster adapter sees) over the bus,
    /// waiting at most <paramref name="timeout"/> (default 2 s) for their answers. Cost: one bus round per query; joins
    /// cost nothing.
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="timeout">How long to wait for the other nodes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The presence.</returns>
    public async Task<ChannelPresence> GetPresenceAsync(string channel, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!HeraldRooms.IsValidName(channel))
        {
            throw new ArgumentException($"A channel name is 1 to {HeraldRooms.MaxNameLength} characters with no control character.", nameof(channel));
        }

        var local = await CountLocalAsync(channel).ConfigureAwait(false);
        var others = _bus is { } bus && _io?.Sockets.Adapter is ClusterAdapter cluster
            ? cluster.Nodes.Where(n => n != bus.NodeName).ToHashSet(StringComparer.Ordinal)
            : [];
        var users = new Dictionary<string, int>(local.Users, StringComparer.Ordinal);
        var anonymous = local.Anonymous;
        var nodes = new List<string> { _bus?.NodeName ?? "local" };
        var complete = !local.Truncated;
        if (others.Count > 0)
        {
            var id = Guid.NewGuid().ToString("N");
            var gather = new PresenceGather(others);
            _presenceRequests[id] = gather;
            try
            {
                var request = new PresenceRequest(_bus!.NodeName, id, channel);
                await _bus.PublishAsync(PresenceRequestChannel, JsonSerializer.SerializeToUtf8Bytes(request, IdentityJsonContext.Default.PresenceRequest), cancellationToken).ConfigureAwait(false);
                try
                {
                    await gather.Done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(2), Options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    complete = false;
                }
            }
            finally
            {
                _presenceRequests.TryRemove(id, out _);
            }

            foreach (var reply in gather.Replies)
            {
                nodes.Add(reply.Node);
                anonymous += reply.Anonymous;
                complete &= !reply.Truncated;
                foreach (var (user, count) in reply.Users)
                {
                    if (users.Count >= MaxPresenceUsers && !users.ContainsKey(user))
                    {
                        complete = false;
                        continue;
                    }

                    users[user] = users.GetValueOrDefault(user) + count;
                }
            }
        }

        return new ChannelPresence(channel, users, anonymous, nodes, complete);
    }

    /// <summary>The event channel members receive when a user's connection enters the channel (<see cref="HeraldIdentityOptions.PresenceEvents"/>).</summary>
    public const string JoinEventName = "herald:join";

    /// <summary>The event channel members receive when a user's connection leaves the channel.</summary>
    public const string LeaveEventName = "herald:leave";

    /// <summary>Tells the members of <paramref name="channels"/> that <paramref name="userId"/> joined or left (when enabled).</summary>
    private void AnnouncePresence(string eventName, string userId, IEnumerable<string> channels)
    {
        if (!Options.PresenceEvents || _services?.GetService(typeof(Publisher)) is not Publisher publisher)
        {
            return;
        }

        foreach (var channel in channels)
        {
            _ = AnnounceAsync(publisher, channel, eventName, userId);
        }
    }

    private async Task AnnounceAsync(Publisher publisher, string channel, string eventName, string userId)
    {
        try
        {
            await publisher.ChannelAsync(channel, eventName, new PresenceEvent(userId)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            IdentityLog.BadCommand(_logger, "presence event not published: " + e.Message);
        }
    }

    private static IEnumerable<string> ChannelsOf(IReadOnlyCollection<string> rooms)
    {
        foreach (var room in rooms)
        {
            if (room.StartsWith(HeraldRooms.ChannelPrefix, StringComparison.Ordinal))
            {
                yield return room[HeraldRooms.ChannelPrefix.Length..];
            }
        }
    }

    private static string? UserOf(IReadOnlyCollection<string> rooms)
    {
        foreach (var room in rooms)
        {
            if (room.StartsWith(IdentityRoomPrefix, StringComparison.Ordinal))
            {
                return room[IdentityRoomPrefix.Length..];
            }
        }

        return null;
    }

    private sealed record PresenceEvent(string User);

    private async Task StartPresenceAsync(IMessageBus bus, CancellationToken cancellationToken)
    {
        _presenceRequestSubscription = await bus.SubscribeAsync(PresenceRequestChannel, OnPresenceRequestAsync, cancellationToken).ConfigureAwait(false);
        _presenceReplySubscription = await bus.SubscribeAsync(PresenceRequestChannel + "." + bus.NodeName, OnPresenceReply, cancellationToken).ConfigureAwait(false);
    }

    private async Task StopPresenceAsync()
    {
        foreach (var subscription in new[] { Interlocked.Exchange(ref _presenceRequestSubscription, null), Interlocked.Exchange(ref _presenceReplySubscription, null) })
        {
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async ValueTask OnPresenceRequestAsync(BusMessage message)
    {
        PresenceRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(message.Payload.Span, IdentityJsonContext.Default.PresenceRequest);
        }
        catch (JsonException e)
        {
            IdentityLog.BadCommand(_logger, e.Message);
            return;
        }

        if (_bus is not { } bus || request is null || request.Node == bus.NodeName || !HeraldRooms.IsValidName(request.Node)
            || string.IsNullOrEmpty(request.Id) || request.Id.Length > 64 || !HeraldRooms.IsValidName(request.Channel))
        {
            return;
        }

        var local = await CountLocalAsync(request.Channel).ConfigureAwait(false);
        var reply = new PresenceReply(bus.NodeName, request.Id, local.Users, local.Anonymous, local.Truncated);
        await bus.PublishAsync(PresenceRequestChannel + "." + request.Node, JsonSerializer.SerializeToUtf8Bytes(reply, IdentityJsonContext.Default.PresenceReply)).ConfigureAwait(false);
    }

    private ValueTask OnPresenceReply(BusMessage message)
    {
        try
        {
            if (JsonSerializer.Deserialize(message.Payload.Span, IdentityJsonContext.Default.PresenceReply) is { Users: not null, Node: not null, Id: not null } reply
                && _presenceRequests.TryGetValue(reply.Id, out var gather))
            {
                gather.Add(reply);
            }
        }
        catch (JsonException e)
        {
            IdentityLog.BadCommand(_logger, e.Message);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>This node's connections in the channel, by user (the <c>herald:u:</c> room or topic of each).</summary>
    private async ValueTask<(Dictionary<string, int> Users, int Anonymous, bool Truncated)> CountLocalAsync(string channel)
    {
        var room = HeraldRooms.Channel(channel);
        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        var anonymous = 0;
        var truncated = false;
        void Count(IReadOnlyCollection<string> rooms)
        {
            string? user = null;
            foreach (var r in rooms)
            {
                if (r.StartsWith(HeraldRooms.UserPrefix, StringComparison.Ordinal))
                {
                    user = r[HeraldRooms.UserPrefix.Length..];
                    break;
                }
            }

            if (user is null)
            {
                anonymous++;
            }
            else if (users.Count < MaxPresenceUsers || users.ContainsKey(user))
            {
                users[user] = users.GetValueOrDefault(user) + 1;
            }
            else
            {
                truncated = true;
            }
        }

        if (_io is { } io)
        {
            foreach (var ns in Options.Namespaces)
            {
                foreach (var socket in await io.Of(ns).Local.In(room).FetchSocketsAsync().ConfigureAwait(false))
                {
                    Count(socket.Rooms);
                }
            }
        }

        Herald.Sse.SseClient[] clients;
        lock (_sseLock)
        {
            clients = [.. _sseClients];
        }

        foreach (var client in clients)
        {
            var topics = client.Topics;
            if (topics.Contains(room))
            {
                Count(topics);
            }
        }

        return (users, anonymous, truncated);
    }

    private sealed class PresenceGather(HashSet<string> expected)
    {
        private readonly Lock _lock = new();

        public List<PresenceReply> Replies { get; } = [];

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(PresenceReply reply)
        {
            lock (_lock)
            {
                if (!expected.Remove(reply.Node))
                {
                    return;
                }

                Replies.Add(reply);
                if (expected.Count == 0)
                {
                    Done.TrySetResult();
                }
            }
        }
    }

    internal sealed record PresenceRequest(
        [property: JsonPropertyName("node")] string Node,
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("channel")] string Channel);

    internal sealed record PresenceReply(
        [property: JsonPropertyName("node")] string Node,
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("users")] Dictionary<string, int> Users,
        [property: JsonPropertyName("anonymous")] int Anonymous,
        [property: JsonPropertyName("truncated")] bool Truncated);
}
