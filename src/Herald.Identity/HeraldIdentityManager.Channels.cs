using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.SocketIO;

namespace Herald.Identity;

public sealed partial class HeraldIdentityManager
{
    /// <summary>
    /// <c>herald:channel:subscribe</c> <c>{channel, token}</c>: the token must be a channel token for this channel whose
    /// <c>sub</c> is the connection's user. Acks <c>{ok: true}</c> or <c>{ok: false, error}</c> with <c>error</c> one of
    /// <c>invalid</c>, <c>forbidden</c> (anonymous connection, or the token is for another channel), <c>too-many</c>, or a
    /// <see cref="TokenErrorCodes"/> value.
    /// </summary>
    private async ValueTask OnChannelSubscribeAsync(SocketEvent e, HeraldConnectionIdentity? identity)
    {
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("channel"u8, out var c) || c.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(c.GetString())
            || !arg.TryGetProperty("token"u8, out var t) || t.ValueKind != JsonValueKind.String)
        {
            Ack(e, new ChannelAck(false, "invalid"));
            return;
        }

        var channel = c.GetString()!;
        var token = t.GetString()!;
        if (identity is null)
        {
            Ack(e, new ChannelAck(false, "forbidden"));
            return;
        }

        var outcome = await Validator.ValidateChannelTokenAsync(token).ConfigureAwait(false);
        string? error = !outcome.IsValid ? outcome.ErrorCode
            : outcome.UserId != identity.UserId ? TokenErrorCodes.UserMismatch
            : outcome.Channel != channel ? "forbidden"
            : null;
        if (error is not null)
        {
            IdentityLog.TokenRefused(_logger, "channel", error);
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
        }

        Ack(e, new ChannelAck(true, null));
    }

    private static async ValueTask OnChannelUnsubscribeAsync(SocketEvent e)
    {
        if (e.Args.Count < 1 || e.Args[0] is not { ValueKind: JsonValueKind.Object } arg
            || !arg.TryGetProperty("channel"u8, out var c) || c.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(c.GetString()))
        {
            Ack(e, new ChannelAck(false, "invalid"));
            return;
        }

        await e.Socket.Leave(HeraldRooms.Channel(c.GetString()!)).ConfigureAwait(false);
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
