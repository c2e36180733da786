using System.Globalization;
using Herald.EngineIO;
using Herald.SocketIO;
using Herald.Sse;

namespace Herald.Bench.Server;

/// <summary>
/// What the load tool's soak scenario needs of the Herald bench server, besides "join" and "pub" (for its clients only):
/// <c>"leave" (room, ack)</c> → <c>socket.Leave(room)</c>, then <c>ack()</c>;
/// <c>"echo" (payload, ack)</c> → <c>ack(payload)</c>;
/// <c>"bin" (bytes, ack)</c> (a binary attachment) → <c>ack(bytes.Length)</c>;
/// and <c>GET /bench/sessions</c> → <c>{"engineSessions":n,"sockets":n,"sse":n}</c>: the open Engine.IO sessions, the
/// connected Socket.IO sockets of the main namespace and the open SSE connections, which must all return to 0 once every
/// client has left (a session or socket that outlives its client is a leak).
/// </summary>
internal static class SoakEndpoints
{
    public static void Map(WebApplication app, SocketIOServer io, EngineIOServer engine, SseServer sse)
    {
        app.MapGet("/bench/sessions", () => Results.Text(
            string.Create(CultureInfo.InvariantCulture,
                $"{{\"engineSessions\":{engine.SessionCount},\"sockets\":{io.Sockets.Sockets.Count},\"sse\":{sse.ConnectionCount}}}"),
            "application/json"));
    }

    /// <summary>
    /// Only for the soak clients (CONNECT with auth <c>{"soak":true}</c>): three more handlers on every socket would add
    /// to the per-connection memory the connections scenario measures.
    /// </summary>
    public static void AddHandlers(Socket socket)
    {
        if (socket.Handshake.Auth.ValueKind != System.Text.Json.JsonValueKind.Object || !socket.Handshake.Auth.TryGetProperty("soak", out _))
        {
            return;
        }

        socket.On<string>("leave", async (room, ack) =>
        {
            await socket.Leave(room);
            ack();
        });
        socket.On<string>("echo", static (payload, ack) => ack(payload));
        socket.On<byte[]>("bin", static (bytes, ack) => ack(bytes.Length));
    }
}
