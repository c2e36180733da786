using System.Net;
using Herald.Sessions;
using Herald.SocketIO;
using Herald.Testing;
using Herald.Testing.Sse;
using Herald.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

/// <summary>
/// Issue 13's critical finding, end to end against the hub as Program.cs composes it: an unauthenticated
/// <c>curl -N '/events?lastEventId=a-1.herald:u:carol'</c> must not receive what the publish API sends to user carol,
/// nor <c>a-1.herald:ch:board</c> what it sends to channel board.
/// </summary>
public class SseTrustBoundaryTests
{
    [Fact]
    public async Task A_forged_last_event_id_naming_a_user_or_channel_room_receives_none_of_their_events()
    {
        await using var hub = await HubInstance.StartAsync();

        // Carol, signed in, in channel board, with a socket (so the publications demonstrably go out).
        await using var carol = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var carolId = await carol.ConnectAsync().DefaultTimeout();
        var session = hub.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[carolId].GetHeraldSession()!;
        await session.SetUserIdAsync("carol").DefaultTimeout();
        await session.Channels.SubscribeAsync("board").DefaultTimeout();

        await using var asUser = await SseTestClient.ConnectAsync(hub.Http, "/events?lastEventId=a-1.herald:u:carol").DefaultTimeout();
        await using var asChannel = await SseTestClient.ConnectAsync(hub.Http, "/events", "a-1.herald:ch:board").DefaultTimeout();
        foreach (var attacker in new[] { asUser, asChannel })
        {
            Assert.Equal(HttpStatusCode.OK, attacker.StatusCode);
            var open = await attacker.ReadEventAsync().DefaultTimeout();
            Assert.Equal("herald:open", open.Type);
            Assert.DoesNotContain("herald:", open.Data, StringComparison.Ordinal);
            Assert.Equal("herald:missed", (await attacker.ReadEventAsync().DefaultTimeout()).Type);
        }

        await Post(hub, "/api/user", """{"users":["carol"],"event":"mail","args":["for carol only"]}""");
        await Post(hub, "/api/channel", """{"channels":["board"],"event":"post","args":["for the board only"]}""");
        await Post(hub, "/api/sse", """{"event":"marker","data":"everyone"}""");
        Assert.Equal("""2["mail","for carol only"]""", await carol.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["post","for the board only","board"]""", await carol.ReceiveTextAsync().DefaultTimeout());
        foreach (var attacker in new[] { asUser, asChannel })
        {
            var next = await attacker.ReadEventAsync().DefaultTimeout();
            Assert.Equal(("marker", "everyone"), (next.Type, next.Data));
        }

        // The reserved rooms cannot be asked for as topics either.
        await using var asTopic = await SseTestClient.ConnectAsync(hub.Http, "/events?topic=herald:u:carol").DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, asTopic.StatusCode);
    }

    private static async Task Post(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>Issue 13: <c>herald.sid</c> behind a TLS-terminating proxy (docs/deployment.md).</summary>
public class ForwardedHeadersTests
{
    [Fact]
    public async Task Forwarded_https_from_a_known_proxy_makes_the_session_cookie_secure_only_when_configured()
    {
        // Off by default: X-Forwarded-* from anyone would let a client claim https or another address.
        await using (var plain = await HubInstance.StartAsync())
        {
            Assert.DoesNotContain("secure", await SetCookieAsync(plain, "https"), StringComparison.OrdinalIgnoreCase);
        }

        await using var proxied = await HubInstance.StartAsync("--Herald:ForwardedHeaders:Enabled=true", "--Herald:ForwardedHeaders:KnownProxies:0=127.0.0.1");
        Assert.Contains("secure", await SetCookieAsync(proxied, "https"), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", await SetCookieAsync(proxied, null), StringComparison.OrdinalIgnoreCase);

        // From a proxy that is not listed, the header is ignored.
        await using var elsewhere = await HubInstance.StartAsync("--Herald:ForwardedHeaders:Enabled=true", "--Herald:ForwardedHeaders:KnownProxies:0=10.1.2.3");
        Assert.DoesNotContain("secure", await SetCookieAsync(elsewhere, "https"), StringComparison.OrdinalIgnoreCase);

        // And the session cookie options are bound from Herald:Sessions.
        await using var always = await HubInstance.StartAsync("--Herald:Sessions:CookieSecure=Always", "--Herald:Sessions:CookieSameSite=Strict");
        var cookie = await SetCookieAsync(always, null);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_known_proxy_that_is_not_an_address_stops_the_hub()
    {
        var e = Assert.Throws<Herald.Server.Hosting.HubConfigurationException>(() =>
            HubInstance.CreateBuilder("--Herald:ForwardedHeaders:Enabled=true", "--Herald:ForwardedHeaders:KnownProxies:0=proxy.local").AddHeraldHub());
        Assert.Contains("ForwardedHeaders:KnownProxies:0", e.Message, StringComparison.Ordinal);
    }

    private static async Task<string> SetCookieAsync(HubInstance hub, string? forwardedProto)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        using var response = await hub.Http.SendAsync(request).DefaultTimeout();
        return Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("herald.sid=", StringComparison.Ordinal));
    }
}
