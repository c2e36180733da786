using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.SocketIO;

namespace Herald.Identity;

public sealed partial class HeraldIdentityManager
{
    /// <summary>
    /// <c>herald:channel:subscribe</c> <c>{channel, token}</c>: the token must be a channel token for this channel whose
    /// <c>sub</c> is the connection's user. Without a token, the subscribe proxy decides (when configured). Acks
    /// <c>{ok: true}</c> or <c>{ok: false, error}</c> with <c>error</c> one of <c>invalid</c>, <c>forbidden</c>
    /// (anonymous connection with a token, no proxy, or the token is for another channel), <c>too-many</c>, a
    /// <see cref="TokenErrorCodes"/> value, or the proxy's code.
    /// </summary>
    private async ValueTask OnChannelSubscribeAsync(SocketEvent e, HeraldConnectionIdentity? identity)
    {
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("channel"u8, out var c) || c.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(c.GetString()))
        {
            Ack(e, new ChannelAck(false, "invalid"));
            return;
        }

        var channel = c.GetString()!;
        string? token = null;
        if (arg.TryGetProperty("token"u8, out var t))
        {
            if (t.ValueKind != JsonValueKind.String)
            {
                Ack(e, new ChannelAck(false, "invalid"));
                return;
            }

            token = t.GetString()!;
        }

        var error = await AuthorizeChannelAsync("socket.io", identity?.UserId, channel, token, default).ConfigureAwait(false);
        if (error is not null)
        {
            Ack(e, new ChannelAck(false, error));
            return;
        }

        var socket = e.Socket;
        var room = HeraldRooms.Channel(channel);
        if (!socket.Rooms.Contains(room))
        {
            if (CountChannels(socket.Rooms) >= Options.MaxChannelsPerConnection)
            {
                Ack(e, new ChannelAck(false, "too-many"));
                return;
            }

            await socket.Join(room).ConfigureAwait(false);
            if (identity is not null)
            {
                AnnouncePresence(JoinEventName, identity.UserId, [channel]);
            }
        }

        Ack(e, new ChannelAck(true, null));
    }

    /// <summary>Whether a connection of <paramref name="userId"/> may receive <paramref name="channel"/>: <c>null</c> when yes, else the error code.</summary>
    private async ValueTask<string?> AuthorizeChannelAsync(string transport, string? userId, string channel, string? token, CancellationToken cancellationToken)
    {
        string? error;
        if (token is not null)
        {
            if (userId is null)
            {
                error = "forbidden"; // a channel token is bound to a user
            }
            else
            {
                var outcome = await Validator.ValidateChannelTokenAsync(token, cancellationToken).ConfigureAwait(false);
                error = !outcome.IsValid ? outcome.ErrorCode
                    : outcome.UserId != userId ? TokenErrorCodes.UserMismatch
                    : outcome.Channel != channel ? "forbidden"
                    : null;
            }
        }
        else if (_proxy is not null && Options.Proxy.SubscribeUrl is not null)
        {
            var answer = await _proxy.SubscribeAsync(transport, userId, channel, cancellationToken).ConfigureAwait(false);
            error = answer.IsAllowed ? null : answer.ErrorCode;
        }
        else
        {
            error = "forbidden";
        }

        if (error is not null)
        {
            IdentityLog.TokenRefused(_logger, "channel", error);
        }

        return error;
    }

    /// <summary>
    /// <c>herald:channel:publish</c> <c>{channel, event, data}</c>: the publish proxy decides (and may replace the data);
    /// then every member of the channel receives <c>event</c> with <c>(data, channel)</c>. Without the proxy, refused.
    /// <c>event</c> is 1 to 64 characters and never a reserved <c>herald:</c> name.
    /// </summary>
    private async ValueTask OnChannelPublishAsync(SocketEvent e, HeraldConnectionIdentity? identity)
    {
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("channel"u8, out var c) || c.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(c.GetString())
            || !arg.TryGetProperty("event"u8, out var ev) || ev.ValueKind != JsonValueKind.String || !IsClientEventName(ev.GetString()!))
        {
            Ack(e, new ChannelAck(false, "invalid"));
            return;
        }

        var publisher = _services?.GetService(typeof(Publisher)) as Publisher;
        if (_proxy is null || Options.Proxy.PublishUrl is null || publisher is null)
        {
            Ack(e, new ChannelAck(false, "forbidden"));
            return;
        }

        var channel = c.GetString()!;
        var eventName = ev.GetString()!;
        var data = arg.TryGetProperty("data"u8, out var d) ? d.Clone() : default;
        var answer = await _proxy.PublishAsync("socket.io", identity?.UserId, channel, eventName, data, default).ConfigureAwait(false);
        if (!answer.IsAllowed)
        {
            IdentityLog.TokenRefused(_logger, "publish", answer.ErrorCode!);
            Ack(e, new ChannelAck(false, answer.ErrorCode));
            return;
        }

        await publisher.ChannelAsync(channel, eventName, answer.Data ?? data).ConfigureAwait(false);
        Ack(e, new ChannelAck(true, null));
    }

    private static bool IsClientEventName(string name)
    {
        if (name.Length is 0 or > 64 || name.StartsWith(HeraldRooms.Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var ch in name)
        {
            if (char.IsControl(ch))
            {
                return false;
            }
        }

        return true;
    }

    private async ValueTask OnChannelUnsubscribeAsync(SocketEvent e)
    {
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("channel"u8, out var c) || c.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(c.GetString()))
        {
            Ack(e, new ChannelAck(false, "invalid"));
            return;
        }

        var room = HeraldRooms.Channel(c.GetString()!);
        if (e.Socket.Rooms.Contains(room))
        {
            await e.Socket.Leave(room).ConfigureAwait(false);
            if (e.Socket.GetHeraldIdentity() is { } identity)
            {
                AnnouncePresence(LeaveEventName, identity.UserId, [c.GetString()!]);
            }
        }

        Ack(e, new ChannelAck(true, null));
    }

    private static int CountChannels(IReadOnlyCollection<string> rooms)
    {
        var n = 0;
        foreach (var room in rooms)
        {
            if (room.StartsWith(HeraldRooms.ChannelPrefix, StringComparison.Ordinal))
            {
                n++;
            }
        }

        return n;
    }

    private static void Ack(SocketEvent e, ChannelAck ack)
    {
        if (e.HasAck)
        {
            e.Ack(ack);
        }
    }

    private sealed record ChannelAck(bool Ok, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Error);
}
