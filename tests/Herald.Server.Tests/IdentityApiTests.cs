using System.Net;
using System.Text;
using Herald.Messaging.Publish;
using Herald.Server.Hosting;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Tests;

/// <summary>The hub's Herald:Identity section and the user API (user-subscribe/unsubscribe/signout/disconnect) across two hubs on one redis-server.</summary>
public class IdentityApiTests
{
    private const string Secret = "hub-identity-secret-of-32-bytes-or-more";

    private static string Token(string sub, params string[] channels)
    {
        var claims = new Dictionary<string, object> { ["sub"] = sub };
        if (channels.Length > 0)
        {
            claims["channels"] = channels;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Issuer = "app",
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    private static string[] Identity(params string[] more) => ["--Herald:Identity:HmacSecret=" + Secret, "--Herald:Identity:Issuer=app", "--Herald:Identity:Required=true", .. more];

    [Fact]
    public async Task The_user_api_of_one_hub_acts_on_the_users_connections_on_both_hubs()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync(Identity("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString));
        await using var b = await HubInstance.StartAsync(Identity("--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString));
        await Adapter(a).Ready.DefaultTimeout();
        await Adapter(b).Ready.DefaultTimeout();

        // alice: a socket on hub-b and an EventSource on hub-a; bob: a socket on hub-b.
        await using var alice = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        var aliceSid = await alice.ConnectAsync("/", $$"""{"token":"{{Token("alice")}}"}""").DefaultTimeout();
        await using var bob = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        await bob.ConnectAsync("/", $$"""{"token":"{{Token("bob")}}"}""").DefaultTimeout();
        using var sseHttp = new HttpClient();
        await using var aliceSse = await SseTestClient.ConnectAsync(sseHttp, a.Uri + "events?token=" + Token("alice")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, aliceSse.StatusCode);
        Assert.Equal("herald:open", (await aliceSse.ReadEventAsync().DefaultTimeout()).Type);
        var aliceSocket = b.Services.GetRequiredService<SocketIOServer>().Of("/").Sockets[aliceSid];

        // user-subscribe through hub-a reaches alice's connections on both hubs, not bob's.
        await PostOk(a, "/api/user-subscribe", """{"users":["alice"],"channels":["board"]}""");
        await WaitUntilAsync(() => aliceSocket.Rooms.Contains(HeraldRooms.Channel("board")));
        await PostOk(a, "/api/channel", """{"channels":["board"],"event":"post","args":[1]}""");
        await PostOk(a, "/api/emit", """{"event":"marker"}""");
        Assert.Equal("""2["post",1,"board"]""", await alice.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["marker"]""", await alice.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["marker"]""", await bob.ReceiveTextAsync().DefaultTimeout());
        var post = await aliceSse.ReadEventAsync().DefaultTimeout();
        Assert.Equal(("post", "[1,\"board\"]"), (post.Type, post.Data));

        // user-unsubscribe.
        await PostOk(a, "/api/user-unsubscribe", """{"users":["alice"],"channels":["board"]}""");
        await WaitUntilAsync(() => !aliceSocket.Rooms.Contains(HeraldRooms.Channel("board")));
        await PostOk(a, "/api/channel", """{"channels":["board"],"event":"post","args":[2]}""");
        await PostOk(a, "/api/user", """{"users":["alice"],"event":"mail","args":[3]}""");
        Assert.Equal("""2["mail",3]""", await alice.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("mail", (await aliceSse.ReadEventAsync().DefaultTimeout()).Type);

        // user-signout: user-addressed messages stop everywhere; the connections stay.
        await PostOk(a, "/api/user-signout", """{"users":["alice"]}""");
        await WaitUntilAsync(() => !aliceSocket.Rooms.Contains(HeraldRooms.User("alice")));
        await PostOk(a, "/api/user", """{"users":["alice"],"event":"mail","args":[4]}""");
        await PostOk(a, "/api/emit", """{"event":"marker2"}""");
        Assert.Equal("""2["marker2"]""", await alice.ReceiveTextAsync().DefaultTimeout());

        // user-disconnect through hub-b: bob's socket on hub-b ends, alice's stays; then alice's EventSource on hub-a closes.
        await PostOk(b, "/api/user-disconnect", """{"users":["bob"]}""");
        Assert.Equal("""2["marker2"]""", await bob.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("1", await bob.ReceiveTextAsync().DefaultTimeout());
        await PostOk(b, "/api/user-subscribe", """{"users":["alice"],"channels":["again"]}"""); // alice is signed out but still alice
        await PostOk(b, "/api/user-disconnect", """{"users":["alice"]}""");
        Assert.Null(await aliceSse.ReadOrEndAsync().DefaultTimeout());

        // Bad bodies are 400s, not partial work.
        using var bad = await a.Http.SendAsync(a.Post("/api/user-subscribe", """{"users":["alice"]}""")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var tooMany = await a.Http.SendAsync(a.Post("/api/user-signout", "{\"users\":[" + string.Join(",", Enumerable.Range(0, 300).Select(i => "\"u" + i + "\"")) + "]}")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        using var noKey = await a.Http.SendAsync(a.Post("/api/user-disconnect", """{"users":["alice"]}""", key: null)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    [Fact]
    public async Task Presence_counts_the_users_and_connections_of_a_channel_on_both_hubs()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync(Identity("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString));
        await using var b = await HubInstance.StartAsync(Identity("--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString));
        await Adapter(a).Ready.DefaultTimeout();
        await Adapter(b).Ready.DefaultTimeout();
        await WaitUntilAsync(() => Adapter(a).Nodes.Contains("hub-b") && Adapter(b).Nodes.Contains("hub-a"));

        // alice on hub-b (socket), carol twice on hub-a (socket + EventSource), dave elsewhere.
        await using var alice = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        await alice.ConnectAsync("/", $$"""{"token":"{{Token("alice", "board")}}"}""").DefaultTimeout();
        await using var carol = await SocketIOTestClient.ConnectWebSocketAsync(a.Uri).DefaultTimeout();
        await carol.ConnectAsync("/", $$"""{"token":"{{Token("carol", "board")}}"}""").DefaultTimeout();
        using var sseHttp = new HttpClient();
        await using var carolSse = await SseTestClient.ConnectAsync(sseHttp, a.Uri + "events?token=" + Token("carol", "board")).DefaultTimeout();
        Assert.Equal("herald:open", (await carolSse.ReadEventAsync().DefaultTimeout()).Type);
        await using var dave = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        await dave.ConnectAsync("/", $$"""{"token":"{{Token("dave", "other")}}"}""").DefaultTimeout();

        foreach (var hub in new[] { a, b })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/presence?channel=board");
            request.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
            using var response = await hub.Http.SendAsync(request).DefaultTimeout();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            var p = System.Text.Json.JsonDocument.Parse(body).RootElement;
            Assert.Equal(3, p.GetProperty("connections").GetInt32());
            Assert.Equal(1, p.GetProperty("users").GetProperty("alice").GetInt32());
            Assert.Equal(2, p.GetProperty("users").GetProperty("carol").GetInt32());
            Assert.False(p.GetProperty("users").TryGetProperty("dave", out _));
            Assert.Equal(["hub-a", "hub-b"], p.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()).Order());
            Assert.True(p.GetProperty("complete").GetBoolean());
        }

        using var noKey = await a.Http.GetAsync("/api/presence?channel=board").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var badRequest = new HttpRequestMessage(HttpMethod.Get, "/api/presence");
        badRequest.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
        using var bad = await a.Http.SendAsync(badRequest).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_hub_with_identity_configured_refuses_missing_and_forged_tokens()
    {
        await using var hub = await HubInstance.StartAsync(Identity());
        await using var anonymous = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => anonymous.ConnectAsync("/")).DefaultTimeout();
        Assert.Contains("token_required", refusal.Message, StringComparison.Ordinal);

        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = "alice" },
            Issuer = "app",
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("not-the-hub-secret-but-32-bytes-long!")), SecurityAlgorithms.HmacSha256),
        });
        await using var mallory = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var forgedRefusal = await Assert.ThrowsAsync<InvalidOperationException>(() => mallory.ConnectAsync("/", $$"""{"token":"{{forged}}"}""")).DefaultTimeout();
        Assert.Contains("token_invalid_signature", forgedRefusal.Message, StringComparison.Ordinal);

        await using var alice = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await alice.ConnectAsync("/", $$"""{"token":"{{Token("alice", "news")}}"}""").DefaultTimeout();
    }

    [Fact]
    public void A_bad_identity_setting_stops_the_hub_naming_it()
    {
        var e = Assert.Throws<HubConfigurationException>(() => HubInstance.CreateBuilder("--Herald:Identity:HmacSecret=short").AddHeraldHub());
        Assert.Contains("Herald:Identity", e.Message, StringComparison.Ordinal);
        Assert.Contains("32 bytes", e.Message, StringComparison.Ordinal);
    }

    private static ClusterAdapter Adapter(HubInstance hub) => (ClusterAdapter)hub.Services.GetRequiredService<SocketIOServer>().Sockets.Adapter;

    private static async Task PostOk(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
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
