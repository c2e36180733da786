// Herald sessions for tests/interop/test/sessions.test.js, enabled with HERALD_SESSIONS=1 so that the other interop
// tests keep their plain in-memory adapter. Control API under /sessions-test:
//   GET  /sessions-test/session            sets the herald.sid cookie (if missing) and returns the session id
//   POST /sessions-test/publish            {"kind":"all|channel|user|socketId","to":["..."],"event":"e","args":[...]}
//   POST /sessions-test/message            {"source":{"type":"User","key":"42"},"type":"UserAdded","message":{...}}
// and the socket events sessions:subscribe [channels], sessions:login user, sessions:logout, sessions:whoami (acked).
// With HERALD_REDIS the sessions live in Redis too (tests/interop/test/sessions-cluster.test.js).
using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.Sessions;
using Herald.SocketIO;

internal static class SessionsInterop
{
    public static bool Enabled => Environment.GetEnvironmentVariable("HERALD_SESSIONS") == "1";

    public static void AddServices(IServiceCollection services)
    {
        if (Enabled)
        {
            services.AddHeraldSessions(o =>
            {
                o.AuthorizeMessageSubscription = r => ValueTask.FromResult(r.Source.Type != "Secret");
                o.SigningKey = "interop-test-session-signing-key-0123456789"; // every node of a test cluster shares it
            });
            if (Environment.GetEnvironmentVariable("HERALD_REDIS") is { Length: > 0 } redis)
            {
                services.AddHeraldRedisSessions(redis); // tests/interop/test/sessions-cluster.test.js
            }
        }
    }

    public static void Map(WebApplication app, SocketIOServer io)
    {
        if (!Enabled)
        {
            return;
        }

        app.UseHeraldSessions();
        var control = app.MapGroup("/sessions-test");
        control.MapGet("/session", (HttpContext ctx) => ctx.GetHeraldSession()!.Id);
        control.MapPost("/publish", async (JsonElement body, Publisher publisher) =>
        {
            var to = body.TryGetProperty("to", out var t) ? t.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];
            var name = body.GetProperty("event").GetString()!;
            object?[] args = body.TryGetProperty("args", out var a) ? [.. a.EnumerateArray().Select(e => (object?)e.Clone())] : [];
            switch (body.GetProperty("kind").GetString())
            {
                case "all": await publisher.AllAsync(name, args); break;
                case "channel": await publisher.ChannelAsync(to, name, args); break;
                case "user": await publisher.UserAsync(to, name, args); break;
                case "socketId": await publisher.SocketIdAsync(to[0], name, args); break;
                default: return Results.BadRequest();
            }

            return Results.Ok();
        });
        control.MapPost("/message", async (JsonElement body, Publisher publisher) =>
        {
            var source = body.GetProperty("source");
            await publisher.SendMessageAsync(
                new MessageSource(source.GetProperty("type").GetString()!, source.GetProperty("key").GetString()!),
                new InteropMessage(body.GetProperty("type").GetString()!, body.GetProperty("message").Clone()));
            return Results.Ok();
        });

        io.OnConnection(socket =>
        {
            var session = socket.GetHeraldSession()!;
            socket.On<string[]>("sessions:subscribe", async (channels, ack) =>
            {
                await session.Channels.SubscribeAsync(channels);
                ack(await session.Channels.ListAsync());
            });
            socket.On<string>("sessions:login", async (user, ack) =>
            {
                await session.SetUserIdAsync(user);
                ack(true);
            });
            socket.On("sessions:logout", async (SocketEvent e) =>
            {
                await session.SetUserIdAsync(null);
                e.Ack(true);
            });
            socket.On("sessions:whoami", (SocketEvent e) =>
            {
                e.Ack(new { socket = socket.Id, session = session.Id });
                return ValueTask.CompletedTask;
            });
        });
    }

    /// <summary>A message whose type name and body come from the test (the JSON object is sent as-is).</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(InteropMessageConverter))]
    private sealed record InteropMessage(string Name, JsonElement Body) : Message
    {
        public override string MessageType => Name;
    }

    private sealed class InteropMessageConverter : System.Text.Json.Serialization.JsonConverter<InteropMessage>
    {
        public override InteropMessage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, InteropMessage value, JsonSerializerOptions options) => value.Body.WriteTo(writer);
    }
}
