using Herald.Messaging.Publish;
using Herald.Sessions;
using Herald.SocketIO;

/// <summary>
/// The sessions and typed-messages demo (wwwroot/typed.html): the page's tabs share the <c>herald.sid</c> session, join
/// channels and sign in through the events below, and subscribe to typed messages with <c>herald:subscribe</c>. It is
/// a demo: any browser may publish to any channel here.
/// </summary>
internal static class TypedDemo
{
    private const int MaxText = 500;

    public static void Map(WebApplication app, SocketIOServer io)
    {
        var publisher = app.Services.GetRequiredService<Publisher>();
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
            socket.On<string>("demo:join", async (channel, ack) =>
            {
                await session.Channels.SubscribeAsync(Clip(channel, 64));
                ack(await session.Channels.ListAsync());
            });
            socket.On("demo:reset", async (SocketEvent e) =>
            {
                await session.Channels.ResetAsync();
                e.Ack(await session.Channels.ListAsync());
            });
            socket.On<string?>("demo:login", async (user, ack) =>
            {
                await session.SetUserIdAsync(string.IsNullOrWhiteSpace(user) ? null : Clip(user, 64));
                ack(await session.GetUserIdAsync());
            });
            socket.On<string, string>("demo:say", async (channel, text, ack) =>
            {
                await publisher.ChannelAsync(Clip(channel, 64), "chatMessage", new { from = socket.Id[..4], message = Clip(text, MaxText) });
                ack(true);
            });
            socket.On<DemoUser>("demo:add-user", async (user, ack) =>
            {
                var clean = new DemoUser(Clip(user.Id, 32), Clip(user.Name, 64), new DemoAddress(Clip(user.Address?.City ?? "", 64)));
                await publisher.SendMessageAsync(MessageSource.For<DemoUser>(clean.Id), new UserAdded(clean));
                ack(true);
            });
        });
    }

    private static string Clip(string? s, int max) => string.IsNullOrEmpty(s) ? "-" : s.Length <= max ? s : s[..max];

    /// <summary>A data object (Estate's Data): its type name <c>DemoUser</c> and id identify a message source.</summary>
    internal sealed record DemoUser(string Id, string Name, DemoAddress? Address);

    internal sealed record DemoAddress(string City);

    /// <summary>The typed message: <c>{"source":{"type":"DemoUser","key":"42"},"type":"UserAdded","message":{"user":{...}}}</c>.</summary>
    internal sealed record UserAdded(DemoUser User) : Message;
}
