using System.Net;
using Herald.Sessions;
using Herald.SocketIO;
using Herald.Sse;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Server.Tests;

/// <summary>
/// Security audit (issue 13), configuration: a list given in configuration replaces whatever the hub or the library
/// put there first (the binder appends to a non-empty list), for every list the hub binds raw from configuration.
/// </summary>
public class ConfiguredListTests
{
    [Fact]
    public async Task Configured_session_namespaces_replace_the_default_root()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Sessions:Namespaces:0=/chat");
        Assert.Equal(["/chat"], hub.Services.GetRequiredService<IOptions<HeraldSessionOptions>>().Value.Namespaces);

        await using var root = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var rootId = await root.ConnectAsync().DefaultTimeout();
        await using var chat = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var chatId = await chat.ConnectAsync("/chat").DefaultTimeout();

        var io = hub.Services.GetRequiredService<SocketIOServer>();
        Assert.NotNull(io.Of("/chat").Sockets[chatId].GetHeraldSession());
        Assert.Null(io.Sockets.Sockets[rootId].GetHeraldSession()); // "/" is no longer a session namespace
    }

    [Fact]
    public async Task Configured_sse_origins_replace_the_hub_wide_cors_origins()
    {
        await using var hub = await HubInstance.StartAsync(
            "--Herald:Cors:Origins:0=https://sockets.example", "--Herald:Sse:AllowedOrigins:0=https://feeds.example");
        Assert.Equal(["https://feeds.example"], hub.Services.GetRequiredService<IOptions<SseOptions>>().Value.AllowedOrigins);

        using (var allowed = await GetEventsWithOrigin(hub, "https://feeds.example"))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Equal("https://feeds.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }

        using var refused = await GetEventsWithOrigin(hub, "https://sockets.example");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task Hub_cors_origins_still_apply_to_sse_when_it_has_no_list_of_its_own()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Cors:Origins:0=https://app.example");
        using var allowed = await GetEventsWithOrigin(hub, "https://app.example");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://app.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Configured_engine_origins_replace_the_hub_wide_cors_origins()
    {
        await using var hub = await HubInstance.StartAsync(
            "--Herald:Cors:Origins:0=https://feeds.example", "--Herald:SocketIO:Engine:Cors:Origins:0=https://sockets.example");
        var cors = hub.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value.Engine.Cors;
        Assert.NotNull(cors);
        Assert.Equal(["https://sockets.example"], cors.Origins);

        using var refused = await GetWithOrigin(hub, "/socket.io/?EIO=4&transport=polling", "https://feeds.example");
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
        using var allowed = await GetWithOrigin(hub, "/socket.io/?EIO=4&transport=polling", "https://sockets.example");
        Assert.Equal("https://sockets.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    private static Task<HttpResponseMessage> GetEventsWithOrigin(HubInstance hub, string origin)
        => GetWithOrigin(hub, "/events?topic=news", origin, HttpCompletionOption.ResponseHeadersRead);

    private static async Task<HttpResponseMessage> GetWithOrigin(HubInstance hub, string path, string origin,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        return await hub.Http.SendAsync(request, completion).DefaultTimeout();
    }
}
