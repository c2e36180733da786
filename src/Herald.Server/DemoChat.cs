using Herald.SocketIO;
using Herald.Sse;

/// <summary>
/// The demo page's chat: rooms over Socket.IO, joined and left from the page. Every message also goes to the
/// Server-Sent Events topic <c>chat</c>, the page's live feed.
/// </summary>
/// <remarks>
/// A room name from the page is never used as a Socket.IO room as is: the socket joins <c>chat:NAME</c>, so no name a
/// browser sends can be another socket's id room (ids have no <c>:</c>) or a reserved <c>herald:*</c> room (issue 13).
/// </remarks>
internal static class DemoChat
{
    /// <summary>The prefix of the demo's rooms in the <c>/chat</c> namespace.</summary>
    public const string RoomPrefix = "chat:";

    private const int MaxText = 2000;
    private const int MaxRoomName = 64;

    public static void Map(SocketIOServer io, SseServer sse)
    {
        var chat = io.Of("/chat");
        chat.OnConnection(socket =>
        {
            var name = socket.Handshake.Auth.ValueKind == System.Text.Json.JsonValueKind.Object
                && socket.Handshake.Auth.TryGetProperty("name", out var n) && n.ValueKind == System.Text.Json.JsonValueKind.String
                ? Clip(n.GetString()!, 32)
                : "guest-" + socket.Id[..4];
            socket.Data["name"] = name;

            socket.On<string?>("join", async (room, ack) =>
            {
                if (string.IsNullOrWhiteSpace(room))
                {
                    ack(Rooms(socket));
                    return;
                }

                room = Clip(room, MaxRoomName);
                await socket.Join(RoomPrefix + room);
                chat.To(RoomPrefix + room).Emit("system", $"{name} joined {room}", room);
                ack(Rooms(socket));
            });
            socket.On<string?>("leave", async (room, ack) =>
            {
                if (!string.IsNullOrWhiteSpace(room))
                {
                    room = Clip(room, MaxRoomName);
                    await socket.Leave(RoomPrefix + room);
                    chat.To(RoomPrefix + room).Emit("system", $"{name} left {room}", room);
                }

                ack(Rooms(socket));
            });
            socket.On<ChatMessage?>("say", (msg, ack) =>
            {
                if (msg is null || string.IsNullOrEmpty(msg.Room) || !socket.Rooms.Contains(RoomPrefix + msg.Room))
                {
                    ack(new { ok = false, error = "join the room first" });
                    return;
                }

                var message = new { from = name, room = msg.Room, text = Clip(msg.Text ?? "", MaxText), at = DateTimeOffset.UtcNow };
                chat.To(RoomPrefix + msg.Room).Emit("message", message);
                sse.To(DemoClock.ChatTopic).Emit("chat", message);
                ack(new { ok = true });
            });
        });
    }

    /// <summary>The demo rooms the socket is in, as the page named them.</summary>
    private static object Rooms(Socket socket)
        => socket.Rooms.Where(r => r.StartsWith(RoomPrefix, StringComparison.Ordinal)).Select(r => r[RoomPrefix.Length..]).ToArray();

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max];

    private sealed record ChatMessage(string? Room, string? Text);
}
