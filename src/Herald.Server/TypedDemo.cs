using System.Collections.Concurrent;
using Herald.Messaging.Publish;
using Herald.Sessions;
using Herald.SocketIO;

/// <summary>
/// The sessions and typed-messages demo (wwwroot/typed.html): the page's tabs share the <c>herald.sid</c> session, join
/// channels and sign in through the events below, and subscribe to typed messages with <c>herald:subscribe</c>.
/// </summary>
/// <remarks>
/// What a browser names here never reaches the application's own channels or users (issue 13): demo channels are
/// <c>demo.NAME</c> and demo users <c>demo.NAME</c>, and a demo user name belongs to the first session that signs in
/// with it (until it signs out), so one visitor cannot sign in as another. The demo is off unless
/// <c>Herald:Demo:Enabled</c> is true (it is in the Development environment).
/// </remarks>
internal static class TypedDemo
{
    /// <summary>The prefix of the demo's channels and user ids.</summary>
    public const string Prefix = "demo.";

    private const int MaxText = 500;
    private const int MaxName = 64;

    /// <summary>The most demo user names held at once (a claim is released on sign-out).</summary>
    private const int MaxClaims = 10_000;

    public static void Map(WebApplication app, SocketIOServer io)
    {
        var publisher = app.Services.GetRequiredService<Publisher>();
        var claims = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // demo user id → session id
        io.OnConnection(socket =>
        {
            if (socket.GetHeraldSession() is not { } session)
            {
                return;
            }

            socket.On("demo:whoami", (SocketEvent e) =>
            {
                e.Ack(new { socket = socket.Id, session = session.Id[..Math.Min(6, session.Id.Length)] + "…" });
                return ValueTask.CompletedTask;
            });
            socket.On<string?>("demo:join", async (channel, ack) =>
            {
                await session.Channels.SubscribeAsync(Prefix + Clip(channel, MaxName));
                ack(await ListAsync(session));
            });
            socket.On("demo:reset", async (SocketEvent e) =>
            {
                await session.Channels.ResetAsync();
                e.Ack(await ListAsync(session));
            });
            socket.On<string?>("demo:login", async (user, ack) =>
            {
                var current = await session.GetUserIdAsync();
                if (current is not null && current.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    claims.TryRemove(new KeyValuePair<string, string>(current, session.Id));
                }

                string? wanted = string.IsNullOrWhiteSpace(user) ? null : Prefix + Clip(user, MaxName);
                if (wanted is not null && (claims.Count >= MaxClaims || claims.GetOrAdd(wanted, session.Id) != session.Id))
                {
                    wanted = null; // taken by another session (or too many demo users): not signed in
                }

                await session.SetUserIdAsync(wanted);
                ack(await session.GetUserIdAsync());
            });
            socket.On<string?, string?>("demo:say", async (channel, text, ack) =>
            {
                await publisher.ChannelAsync(Prefix + Clip(channel, MaxName), "chatMessage", new { from = socket.Id[..4], message = Clip(text, MaxText) });
                ack(true);
            });
            socket.On<DemoUser?>("demo:add-user", async (user, ack) =>
            {
                if (user is null)
                {
                    ack(false);
                    return;
                }

                var clean = new DemoUser(Clip(user.Id, 32), Clip(user.Name, MaxName), new DemoAddress(Clip(user.Address?.City, MaxName)));
                await publisher.SendMessageAsync(MessageSource.For<DemoUser>(clean.Id!), new UserAdded(clean));
                ack(true);
            });
        });
    }

    /// <summary>The session's demo channels, as the page named them.</summary>
    private static async Task<object> ListAsync(HeraldSession session)
        => (await session.Channels.ListAsync()).Where(c => c.StartsWith(Prefix, StringComparison.Ordinal)).Select(c => c[Prefix.Length..]).ToArray();

    /// <summary>At most <paramref name="max"/> characters, control characters replaced (names must have none).</summary>
    private static string Clip(string? s, int max)
    {
        if (string.IsNullOrEmpty(s))
        {
            return "-";
        }

        s = s.Length <= max ? s : s[..max];
        return s.Any(char.IsControl) ? new string([.. s.Select(c => char.IsControl(c) ? '?' : c)]) : s;
    }

    /// <summary>A data object (Estate's Data): its type name <c>DemoUser</c> and id identify a message source.</summary>
    internal sealed record DemoUser(string? Id, string? Name, DemoAddress? Address);

    internal sealed record DemoAddress(string? City);

    /// <summary>The typed message: <c>{"source":{"type":"DemoUser","key":"42"},"type":"UserAdded","message":{"user":{...}}}</c>.</summary>
    internal sealed record UserAdded(DemoUser User) : Message;
}
