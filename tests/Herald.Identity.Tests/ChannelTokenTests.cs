using System.Net;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>Clients subscribe to channels only with a channel token for that channel and their own user.</summary>
public sealed class ChannelTokenTests
{
    private static string Hs(string sub = "alice", string? channel = null, DateTime? expires = null)
        => TestTokens.Create(TestTokens.HmacKey, SecurityAlgorithms.HmacSha256, sub: sub, channel: channel, expires: expires);

    private static void Hmac(HeraldIdentityOptions o) => o.HmacSecret = TestTokens.Secret;

    [Fact]
    public async Task ASocketSubscribesWithAChannelTokenForItsUserAndThatChannelOnly()
    {
        await using var node = await IdentityNode.StartAsync(o =>
        {
            Hmac(o);
            o.MaxChannelsPerConnection = 2;
        });
        await using var alice = await node.ConnectAsync(Hs());
        await using var anonymous = await node.ConnectAsync(null);

        async Task<string?> SubscribeAsync(IdClient client, object payload)
        {
            var ack = (await client.EmitWithAckAsync(HeraldIdentityManager.ChannelSubscribeEventName, payload))[0];
            return ack.GetProperty("ok").GetBoolean() ? null : ack.GetProperty("error").GetString();
        }

        Assert.Equal("forbidden", await SubscribeAsync(alice, new { channel = "secret", token = Hs(channel: "board") }));
        Assert.Equal(TokenErrorCodes.UserMismatch, await SubscribeAsync(alice, new { channel = "secret", token = Hs(sub: "bob", channel: "secret") }));
        Assert.Equal(TokenErrorCodes.Expired, await SubscribeAsync(alice, new { channel = "secret", token = Hs(channel: "secret", expires: DateTime.UtcNow.AddMinutes(-5)) }));
        Assert.Equal(TokenErrorCodes.Malformed, await SubscribeAsync(alice, new { channel = "secret", token = TestTokens.Unsigned() }));
        Assert.Equal("forbidden", await SubscribeAsync(alice, new { channel = "secret" })); // no token and no subscribe proxy
        Assert.Equal("invalid", await SubscribeAsync(alice, new { channel = "secret", token = 5 }));
        Assert.Equal("forbidden", await SubscribeAsync(anonymous, new { channel = "secret", token = Hs(channel: "secret") }));

        Assert.Null(await SubscribeAsync(alice, new { channel = "secret", token = Hs(channel: "secret") }));
        await node.Publisher.ChannelAsync("secret", "post", "p1");
        var post = await alice.NextAsync("post");
        Assert.Equal("secret", post.Args[1].GetString());

        Assert.Null(await SubscribeAsync(alice, new { channel = "two", token = Hs(channel: "two") }));
        Assert.Equal("too-many", await SubscribeAsync(alice, new { channel = "three", token = Hs(channel: "three") }));

        var left = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelUnsubscribeEventName, new { channel = "secret" }))[0];
        Assert.True(left.GetProperty("ok").GetBoolean());
        await node.Publisher.ChannelAsync("secret", "post", "p2");
        await node.Publisher.AllAsync("marker");
        await alice.NextAsync("marker");
        await anonymous.NextAsync("marker");
    }

    [Fact]
    public async Task AnEventSourceAddsChannelsWithChannelTokensAndABadOneIsRefused()
    {
        await using var node = await IdentityNode.StartAsync(Hmac);
        var token = Hs();
        await using var sse = await node.ConnectSseAsync($"?token={token}&channel=board&channelToken={Hs(channel: "board")}");
        await node.Publisher.ChannelAsync("board", "post", "p");
        var post = await sse.ReadEventAsync().WaitAsync(Herald.Testing.TaskTimeoutExtensions.DefaultTimeoutSpan);
        Assert.Equal("post", post.Type);
        Assert.Equal("[\"p\",\"board\"]", post.Data);

        async Task<HttpStatusCode> StatusAsync(string query)
        {
            await using var client = await node.OpenSseAsync(query);
            return client.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"?token={token}&channel=board&channelToken={Hs(channel: "other")}"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"?token={token}&channel=board&channelToken={Hs(sub: "bob", channel: "board")}"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"?channel=board&channelToken={Hs(channel: "board")}"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"?token={token}&channel=board")); // no token, no subscribe proxy
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync($"?token={token}&channel=board&channel=b2&channelToken={Hs(channel: "board")}"));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync($"?token={token}&token={token}"));
    }
}
