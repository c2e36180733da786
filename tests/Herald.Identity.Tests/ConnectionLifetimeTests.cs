using System.Net;
using System.Text.Json;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>Required tokens, cookies, and what happens when a connection's token expires (a manual clock drives the timers).</summary>
public sealed class ConnectionLifetimeTests
{
    private static string Hs(string sub = "alice", IEnumerable<string>? channels = null, DateTime? expires = null)
        => TestTokens.Create(TestTokens.HmacKey, SecurityAlgorithms.HmacSha256, sub: sub, channels: channels, expires: expires);

    private static void Hmac(HeraldIdentityOptions o) => o.HmacSecret = TestTokens.Secret;

    [Fact]
    public async Task WithoutATokenAConnectionIsAnonymousUnlessTokensAreRequired()
    {
        await using (var open = await IdentityNode.StartAsync(Hmac))
        {
            await using var anonymous = await open.ConnectAsync(null);
            await open.Publisher.UserAsync("alice", "private", 1);
            await open.Publisher.AllAsync("marker");
            await anonymous.NextAsync("marker");
        }

        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.Required = true;
        });
        var refused = await node.RefusedAsync(null);
        Assert.Equal(TokenErrorCodes.Required, refused.Code);

        // A token that is present but not a string is a bad token, not a missing one.
        Assert.Equal(TokenErrorCodes.Malformed, (await IdClient.RefusedAsync(node.BaseUrl, new { token = 42 })).Code);

        await using var sse = await node.OpenSseAsync("");
        Assert.Equal(HttpStatusCode.Unauthorized, sse.StatusCode);
        Assert.Contains(TokenErrorCodes.Required, sse.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenMayComeFromTheConfiguredCookieOrAnAuthorizationHeader()
    {
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.Required = true;
            o.CookieName = "app.herald";
        });
        await using var byCookie = await IdClient.ConnectAsync(node.BaseUrl, null, new Dictionary<string, string> { ["Cookie"] = "other=1; app.herald=" + Hs("carol") });
        await using var byHeader = await IdClient.ConnectAsync(node.BaseUrl, null, new Dictionary<string, string> { ["Authorization"] = "Bearer " + Hs("dave") });
        await node.Publisher.UserAsync("carol", "hi", "carol");
        await node.Publisher.UserAsync("dave", "hi", "dave");
        Assert.Equal("carol", (await byCookie.NextAsync("hi")).Args[0].GetString());
        Assert.Equal("dave", (await byHeader.NextAsync("hi")).Args[0].GetString());

        // A cookie with another name is not read.
        Assert.Equal(TokenErrorCodes.Required, (await IdClient.RefusedAsync(node.BaseUrl, null, new Dictionary<string, string> { ["Cookie"] = "herald.token=" + Hs() })).Code);
    }

    [Fact]
    public async Task AtExpiryTheServerAsksForANewTokenAndANewTokenKeepsTheConnection()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.TimeProvider = clock;
            o.RefreshGrace = TimeSpan.FromSeconds(30);
        });
        await using var alice = await node.ConnectAsync(Hs(expires: DateTime.UtcNow.AddMinutes(5)));

        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var ask = await alice.NextAsync(HeraldIdentityManager.RefreshEventName);
        Assert.True(ask.AckId >= 0, "the server asks with an acknowledgement");
        var deadline = ask.Args[0].GetProperty("deadline").GetInt64();
        Assert.Equal(clock.GetUtcNow().AddSeconds(30).ToUnixTimeMilliseconds(), deadline);
        Assert.True(ask.Args[0].GetProperty("expiresAt").GetInt64() < deadline);

        var renewed = DateTime.UtcNow.AddMinutes(30);
        await alice.AckAsync(ask.AckId, new { token = Hs(expires: renewed) });
        var socket = node.Io.Of("/").Sockets.Values.Single();
        await WaitUntilAsync(() => socket.GetHeraldIdentity()!.ExpiresAt > clock.GetUtcNow().AddMinutes(10));

        // The old deadline passes: still connected, still alice.
        clock.Advance(TimeSpan.FromSeconds(31));
        await node.Publisher.UserAsync("alice", "still", 1);
        await alice.NextAsync("still");
        Assert.False(alice.Disconnected.IsCompleted);
    }

    [Fact]
    public async Task WithoutANewTokenTheConnectionIsDisconnectedAtTheDeadline()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.TimeProvider = clock;
            o.RefreshGrace = TimeSpan.FromSeconds(30);
        });
        await using var alice = await node.ConnectAsync(Hs(expires: DateTime.UtcNow.AddMinutes(5)));
        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await alice.NextAsync(HeraldIdentityManager.RefreshEventName);
        Assert.False(alice.Disconnected.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(30));
        await alice.Disconnected.DefaultTimeout();
    }

    [Fact]
    public async Task AClientMayRefreshItselfButNotAsAnotherUser()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.TimeProvider = clock;
        });
        await using var alice = await node.ConnectAsync(Hs(expires: DateTime.UtcNow.AddMinutes(5)));

        var other = (await alice.EmitWithAckAsync(HeraldIdentityManager.RefreshEventName, new { token = Hs(sub: "mallory", expires: DateTime.UtcNow.AddHours(1)) }))[0];
        Assert.False(other.GetProperty("ok").GetBoolean());
        Assert.Equal(TokenErrorCodes.UserMismatch, other.GetProperty("error").GetString());
        var forged = (await alice.EmitWithAckAsync(HeraldIdentityManager.RefreshEventName, new { token = TestTokens.Unsigned() }))[0];
        Assert.Equal(TokenErrorCodes.Malformed, forged.GetProperty("error").GetString());

        var renewed = DateTime.UtcNow.AddHours(1);
        var ok = (await alice.EmitWithAckAsync(HeraldIdentityManager.RefreshEventName, new { token = Hs(expires: renewed) }))[0];
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.True(ok.GetProperty("expiresAt").GetInt64() > clock.GetUtcNow().AddMinutes(50).ToUnixTimeMilliseconds());

        // Past the first token's expiry and grace: nothing is asked, nothing is cut.
        clock.Advance(TimeSpan.FromMinutes(6));
        await node.Publisher.UserAsync("alice", "still", 1);
        await alice.NextAsync("still");
        Assert.False(alice.Disconnected.IsCompleted);
    }

    [Fact]
    public async Task AnEventSourceWithATokenReceivesItsUserAndChannelsAndIsClosedAfterExpiry()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.TimeProvider = clock;
            o.RefreshGrace = TimeSpan.FromSeconds(30);
        });
        await using var sse = await node.ConnectSseAsync("?token=" + Hs(channels: ["news"], expires: DateTime.UtcNow.AddMinutes(5)));
        await using var anonymous = await node.ConnectSseAsync("");

        await node.Publisher.UserAsync("bob", "private", "not for alice");
        await node.Publisher.UserAsync("alice", "private", "for alice");
        Assert.Equal("[\"for alice\"]", (await sse.ReadEventAsync().DefaultTimeout()).Data);
        await node.Publisher.ChannelAsync("news", "headline", "h");
        var headline = await sse.ReadEventAsync().DefaultTimeout();
        Assert.Equal("headline", headline.Type);
        Assert.Equal("[\"h\",\"news\"]", headline.Data);
        await node.Publisher.AllAsync("marker");
        Assert.Equal("marker", (await sse.ReadEventAsync().DefaultTimeout()).Type);
        Assert.Equal("marker", (await anonymous.ReadEventAsync().DefaultTimeout()).Type);

        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var refresh = await sse.ReadEventAsync().DefaultTimeout();
        Assert.Equal(HeraldIdentityManager.RefreshEventName, refresh.Type);
        using (var doc = JsonDocument.Parse(refresh.Data))
        {
            Assert.Equal(clock.GetUtcNow().AddSeconds(30).ToUnixTimeMilliseconds(), doc.RootElement.GetProperty("deadline").GetInt64());
        }

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(await sse.ReadOrEndAsync().DefaultTimeout());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
