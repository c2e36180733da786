using System.Net;
using Herald.Messaging.Publish;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Sessions.Tests;

/// <summary>
/// The session trust boundary (issue 13): a visitor never picks its session, never rides another site's request into
/// a visitor's session, never subscribes to what the application did not allow, and never learns a session id from logs.
/// </summary>
public class SessionSecurityTests
{
    private const string Chosen = "AAAAAAAAAAAAAAAAAAAAAA";

    [Fact]
    public async Task AClientChosenSessionCookieIsReplacedByAServerIssuedOne()
    {
        await using var node = await SessionsNode.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, node.BaseUrl + "/session");
        request.Headers.Add("Cookie", "herald.sid=" + Chosen);
        using var response = await node.Http.SendAsync(request).DefaultTimeout();
        Assert.True(response.Headers.TryGetValues("Set-Cookie", out var setCookie));
        Assert.DoesNotContain(Chosen, Assert.Single(setCookie), StringComparison.Ordinal);
        Assert.NotEqual(Chosen, await response.Content.ReadAsStringAsync());

        // A socket or EventSource arriving with the chosen value directly is not put in that session either.
        await using var socket = await node.ConnectAsync(Chosen);
        Assert.NotEqual(Chosen, (await socket.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());
        await node.Sessions.Get(Chosen).Channels.SubscribeAsync("planted");
        var (sse, _) = await node.ConnectSseAsync(Chosen);
        await using var sse_ = sse;
        await node.Publisher.ChannelAsync("planted", "ev", 1);
        await node.Publisher.AllAsync("marker");
        await sse.NextSseAsync("marker");
    }

    [Fact]
    public async Task TypedMessageSubscriptionsAreRefusedUnlessTheApplicationAllowsThem()
    {
        await using var node = await SessionsNode.StartAsync();
        var browser = await node.NewBrowserSessionAsync();
        await using var tab = await node.ConnectAsync(browser);
        var ack = (await tab.EmitWithAckAsync("herald:subscribe", new { source = new { type = "User", key = "42" }, type = "UserAdded" }))[0];
        Assert.False(ack.GetProperty("ok").GetBoolean());
        Assert.Equal("forbidden", ack.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, await node.SseStatusAsync(browser, "?msgSource=User:42&msgType=UserAdded"));
    }

    [Fact]
    public async Task ACrossSiteSocketCarryingTheCookieIsNotInTheVisitorsSession()
    {
        await using var node = await SessionsNode.StartAsync(sessions: o => o.AllowedOrigins.Add("https://app.example"));
        var browser = await node.NewBrowserSessionAsync();
        var browserId = node.SessionIdOf(browser);
        await using var tab = await node.ConnectAsync(browser, origin: node.BaseUrl);
        Assert.Equal(browserId, (await tab.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "inbox" });

        await using var allowed = await node.ConnectAsync(browser, origin: "https://app.example");
        Assert.Equal(browserId, (await allowed.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());

        foreach (var evil in new string[] { "https://evil.example", "null", node.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) })
        {
            await using var hijack = await node.ConnectAsync(browser, origin: evil);
            Assert.NotEqual(browserId, (await hijack.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());
            var (sse, _) = await node.ConnectSseAsync(browser, origin: evil);
            await using var sse_ = sse;
            await node.Publisher.ChannelAsync("inbox", "mail", "private");
            await node.Publisher.AllAsync("marker");
            await hijack.NextAsync("marker");
            await sse.NextSseAsync("marker");
            await tab.NextAsync("mail");
            await tab.NextAsync("marker");
            await allowed.NextAsync("mail");
            await allowed.NextAsync("marker");
        }
    }

    [Fact]
    public async Task ReservedTopicsAndAnotherSessionsSseIdAreNotReachable()
    {
        await using var node = await SessionsNode.StartAsync();
        var victim = await node.NewBrowserSessionAsync();
        var attacker = await node.NewBrowserSessionAsync();
        await using var tab = await node.ConnectAsync(victim);
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "inbox" });
        Assert.Equal(HttpStatusCode.BadRequest, await node.SseStatusAsync(attacker, "?topic=" + Uri.EscapeDataString("herald:s:" + node.SessionIdOf(victim))));
        Assert.Equal(HttpStatusCode.BadRequest, await node.SseStatusAsync(attacker, "?topic=herald:ch:inbox"));
        Assert.Equal(HttpStatusCode.BadRequest, await node.SseStatusAsync(attacker, "?topic=" + Uri.EscapeDataString("herald:m:User:UserAdded:42")));

        // The victim's EventSource id line, replayed with the attacker's own cookie, is a fresh client.
        var (sse, sseId) = await node.ConnectSseAsync(victim);
        await using var sse_ = sse;
        var (stolen, stolenId) = await node.ConnectSseAsync(attacker, lastEventId: sse.LastEventId);
        await using var stolen_ = stolen;
        Assert.NotEqual(sseId, stolenId);
        await stolen.NextSseAsync("herald:missed");
        await node.Publisher.ChannelAsync("inbox", "mail", "private");
        await node.Publisher.SocketIdAsync(sseId, "direct", 1);
        await node.Publisher.AllAsync("marker");
        await stolen.NextSseAsync("marker");
        await sse.NextSseAsync("mail");
        await sse.NextSseAsync("direct");
    }

    [Fact]
    public async Task ASessionsChannelsAreCappedWithAClearError()
    {
        await using var node = await SessionsNode.StartAsync();
        var session = node.Sessions.Get(node.SessionIdOf(await node.NewBrowserSessionAsync()));
        var max = new HeraldSessionOptions().MaxChannelsPerSession;
        Assert.InRange(max, 64, 4096);
        for (var i = 0; i < max; i += 128)
        {
            await session.Channels.SubscribeAsync([.. Enumerable.Range(i, Math.Min(128, max - i)).Select(n => "c" + n)]);
        }

        await session.Channels.SubscribeAsync("c0"); // already in it: no growth
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await session.Channels.SubscribeAsync("one-too-many"));
        Assert.Contains("MaxChannelsPerSession", e.Message, StringComparison.Ordinal);
        Assert.Equal(max, (await session.Channels.ListAsync()).Count);
    }

    [Fact]
    public async Task LogsNeverCarryAFullSessionIdOrCookie()
    {
        await using var node = await SessionsNode.StartAsync(sessions: o => o.AuthorizeMessageSubscription = _ => ValueTask.FromResult(false));
        var browser = await node.NewBrowserSessionAsync();
        var id = node.SessionIdOf(browser);
        await using var tab = await node.ConnectAsync(browser);
        await tab.EmitWithAckAsync("herald:subscribe", new { source = new { type = "User", key = "42" }, type = "UserAdded" });
        var (sse, _) = await node.ConnectSseAsync(browser);
        await sse.DisposeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await node.SseStatusAsync(browser, "?msgSource=User:42&msgType=UserAdded"));
        await node.Sessions.Get(id).Channels.SubscribeAsync("x");

        Assert.Contains(node.Logs.Entries, e => e.Category.StartsWith("Herald.Sessions", StringComparison.Ordinal));
        Assert.DoesNotContain(node.Logs.Entries, e => e.Message.Contains(id, StringComparison.Ordinal) || e.Message.Contains(browser, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CookieAttributesFollowTheOptionsAndForwardedHttps()
    {
        await using (var strict = await SessionsNode.StartAsync(sessions: o =>
        {
            o.CookieSecure = Microsoft.AspNetCore.Http.CookieSecurePolicy.Always;
            o.CookieSameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
        }))
        {
            var setCookie = await SetCookieAsync(strict, null);
            Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        }

        // SameAsRequest (default) behind a TLS proxy: Secure once forwarded headers from a known proxy are honoured.
        await using var proxied = await SessionsNode.StartAsync(beforeSessions: app => app.UseForwardedHeaders(new Microsoft.AspNetCore.Builder.ForwardedHeadersOptions
        {
            ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto,
        }));
        Assert.DoesNotContain("secure", await SetCookieAsync(proxied, null), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", await SetCookieAsync(proxied, "https"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheTransportsOwnCorsOriginsMayUseTheCookie()
    {
        await using var node = await SessionsNode.StartAsync(services: s =>
        {
            s.Configure<Herald.SocketIO.SocketIOOptions>(o => o.Engine.Cors = new Herald.EngineIO.EngineIOCorsOptions { Origins = ["https://io.example"], Credentials = true });
            s.Configure<Herald.Sse.SseOptions>(o => o.AllowedOrigins.Add("https://sse.example"));
        });
        var browser = await node.NewBrowserSessionAsync();
        var browserId = node.SessionIdOf(browser);
        await using var socket = await node.ConnectAsync(browser, origin: "https://io.example");
        Assert.Equal(browserId, (await socket.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());
        await socket.EmitWithAckAsync("subscribe", (object)new[] { "inbox" });

        var (sse, _) = await node.ConnectSseAsync(browser, origin: "https://sse.example");
        await using var sse_ = sse;
        await node.Publisher.ChannelAsync("inbox", "mail", "for the session");
        Assert.Equal("for the session", (await sse.NextSseAsync("mail"))[0].GetString());

        // The SSE list is not the socket list, and the reverse.
        await using var crossed = await node.ConnectAsync(browser, origin: "https://sse.example");
        Assert.NotEqual(browserId, (await crossed.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString());
    }

    [Fact]
    public async Task AShortSigningKeyStopsTheStart()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => SessionsNode.StartAsync(sessions: o => o.SigningKey = "short"));
        Assert.Contains("SigningKey", e.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string> SetCookieAsync(SessionsNode node, string? forwardedProto)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, node.BaseUrl + "/session");
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        using var response = await node.Http.SendAsync(request).DefaultTimeout();
        return Assert.Single(response.Headers.GetValues("Set-Cookie"));
    }
}
