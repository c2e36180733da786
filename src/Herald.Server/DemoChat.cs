using Herald.SocketIO;
using Herald.Sse;

/// <summary>
/// The demo page's chat: rooms over Socket.IO, joined and left from the page. Every message also goes to the
/// Server-Sent Events topic <c>chat</c>, the page's live feed.
/// </summary>
internal static class DemoChat
{
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

            socket.On<string>("join", async (room, ack) =>
            {
                room = Clip(room, MaxRoomName);
                await socket.Join(room);
                chat.To(room).Emit("system", $"{name} joined {room}", room);
                ack((object)socket.Rooms.Where(r => r != socket.Id).ToArray());
            });
            socket.On<string>("leave", async (room, ack) =>
            {
                await socket.Leave(room);
                chat.To(room).Emit("system", $"{name} left {room}", room);
                ack((object)socket.Rooms.Where(r => r != socket.Id).ToArray());
            });
            socket.On<ChatMessage>("say", (msg, ack) =>
            {
                var text = Clip(msg.Text, MaxText);
                if (!socket.Rooms.Contains(msg.Room))
                {
                    ack(new { ok = false, error = "join the room first" });
                    return;
                }

                var message = new { from = name, room = msg.Room, text, at = DateTimeOffset.UtcNow };
                chat.To(msg.Room).Emit("message", message);
                sse.To(DemoClock.ChatTopic).Emit("chat", message);
                ack(new { ok = true });
            });
        });
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max];

    private sealed record ChatMessage(string Room, string Text);
}
