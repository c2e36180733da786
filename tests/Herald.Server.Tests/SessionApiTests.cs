using System.Net;
using Herald.Sessions;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

/// <summary>The publish API's session commands (<c>channel</c>, <c>user</c>, <c>all</c>) reach real Socket.IO clients.</summary>
public class SessionApiTests
{
    [Fact]
    public async Task Channel_user_and_all_commands_reach_the_sessions_sockets()
    {
        await using var hub = await HubInstance.StartAsync();
        await using var fan = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var fanId = await fan.ConnectAsync().DefaultTimeout();
        await using var other = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await other.ConnectAsync().DefaultTimeout();

        var io = hub.Services.GetRequiredService<SocketIOServer>();
        var session = io.Sockets.Sockets[fanId].GetHeraldSession();
        Assert.NotNull(session);
        await session.Channels.SubscribeAsync("disney").DefaultTimeout();
        await session.Channels.SubscribeAsync("pixar").DefaultTimeout();
        await session.SetUserIdAsync("fred").DefaultTimeout();

        // In two of the channels: once, with the first matching channel's name last.
        await PostOk(hub, "/api/channel", """{"channels":["pixar","disney","marvel"],"event":"newFilm","args":[{"title":"Up"}]}""");
        await PostOk(hub, "/api/user", """{"users":["fred"],"event":"mail","args":[1]}""");
        await PostOk(hub, "/api/all", """{"event":"announcement","args":["22:00"]}""");
        Assert.Equal("""2["newFilm",{"title":"Up"},"pixar"]""", await fan.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["mail",1]""", await fan.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["announcement","22:00"]""", await fan.ReceiveTextAsync().DefaultTimeout());

        // The other session is in no channel and signed in as nobody: the broadcast to all is its first event.
        Assert.Equal("""2["announcement","22:00"]""", await other.ReceiveTextAsync().DefaultTimeout());

        using var missing = await hub.Http.SendAsync(hub.Post("/api/channel", """{"event":"x"}""")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
    }

    private static async Task PostOk(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
