using System.Net;
using Herald.Testing;

namespace Herald.Identity.Tests;

/// <summary>Connect, subscribe and publish proxies against a real backend app: allow, deny, timeout, 5xx, bad answers, cache.</summary>
public sealed class ProxyTests
{
    private static Dictionary<string, string> Cookie(string user) => new() { ["Cookie"] = "session=" + user + "; theme=dark", ["X-Private"] = "not forwarded" };

    [Fact]
    public async Task TheConnectProxyIdentifiesACookieAuthenticatedConnection()
    {
        await using var backend = await BackendApp.StartAsync();
        await using var node = await IdentityNode.StartAsync(backend.Proxy);
        await using var alice = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie("alice"));
        await using var sse = await SseTestClientWithCookie(node, "bob");

        var call = backend.Calls.First(c => c.Path == "/proxy/connect");
        Assert.Equal("socket.io", call.Body.GetProperty("transport").GetString());
        Assert.Equal("session=alice; theme=dark", call.Body.GetProperty("headers").GetProperty("Cookie").GetString());
        Assert.False(call.Body.GetProperty("headers").TryGetProperty("X-Private", out _));
        Assert.Equal("hub-to-backend", call.Headers["X-Hub-Key"].ToString());

        await node.Publisher.UserAsync("alice", "hi", "alice");
        await node.Publisher.UserAsync("bob", "hi", "bob");
        Assert.Equal("alice", (await alice.NextAsync("hi")).Args[0].GetString());
        Assert.Equal("[\"bob\"]", (await sse.ReadEventAsync().DefaultTimeout()).Data);
        await node.Publisher.ChannelAsync("lobby", "news", 1);
        Assert.Equal("lobby", (await alice.NextAsync("news")).Args[1].GetString());
        Assert.Equal("[1,\"lobby\"]", (await sse.ReadEventAsync().DefaultTimeout()).Data);
    }

    [Fact]
    public async Task TheBackendsRefusalIsAConnectErrorWithItsCode()
    {
        await using var backend = await BackendApp.StartAsync();
        await using var node = await IdentityNode.StartAsync(backend.Proxy);
        var refused = await IdClient.RefusedAsync(node.BaseUrl, null, new Dictionary<string, string> { ["Cookie"] = "theme=dark" });
        Assert.Equal("not_signed_in", refused.Code);
        Assert.Equal("No session.", refused.Error.GetProperty("message").GetString());
        Assert.Equal(1, backend.CallsTo("/proxy/connect")); // a refusal is an answer: not retried

        backend.Behaviour = BackendBehaviour.Deny;
        await using var sse = await node.OpenSseAsync("");
        Assert.Equal(HttpStatusCode.Unauthorized, sse.StatusCode);
        Assert.Contains("not_signed_in", sse.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BackendBehaviour.Hang)]
    [InlineData(BackendBehaviour.ServerError)]
    public async Task ATimeoutOrA5xxIsRetriedThenRefused(BackendBehaviour behaviour)
    {
        await using var backend = await BackendApp.StartAsync();
        backend.Behaviour = behaviour;
        await using var node = await IdentityNode.StartAsync(o =>
        {
            backend.Proxy(o);
            o.Proxy.Retries = 2;
            // Short enough for three hung calls to fit the test, long enough for the answering call after them.
            o.Proxy.Timeout = TimeSpan.FromSeconds(1);
        }, allowWarnings: true);
        var refused = await IdClient.RefusedAsync(node.BaseUrl, null, Cookie("alice"));
        Assert.Equal(ProxyErrorCodes.Unavailable, refused.Code);
        Assert.Equal(3, backend.CallsTo("/proxy/connect"));

        // A failure is not cached: once the backend is back, the next connection is let in.
        backend.Behaviour = BackendBehaviour.Allow;
        await using var alice = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie("alice"));
    }

    [Fact]
    public async Task AnAnswerThatIsNotTheExpectedJsonIsARefusalAndIsNotRetried()
    {
        await using var backend = await BackendApp.StartAsync();
        backend.Behaviour = BackendBehaviour.BadJson;
        await using var node = await IdentityNode.StartAsync(backend.Proxy);
        Assert.Equal(ProxyErrorCodes.BadAnswer, (await IdClient.RefusedAsync(node.BaseUrl, null, Cookie("alice"))).Code);
        Assert.Equal(1, backend.CallsTo("/proxy/connect"));
    }

    [Fact]
    public async Task AnswersAreCachedPerQuestionForTheTtlAndTheCacheIsBounded()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var backend = await BackendApp.StartAsync();
        await using var node = await IdentityNode.StartAsync(o =>
        {
            backend.Proxy(o);
            o.TimeProvider = clock;
            o.Proxy.CacheTtl = TimeSpan.FromSeconds(30);
            o.Proxy.CacheSize = 2;
        });

        async Task ConnectAsync(string user)
        {
            await using var client = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie(user));
        }

        await ConnectAsync("alice");
        await ConnectAsync("alice");
        Assert.Equal(1, backend.CallsTo("/proxy/connect"));
        await ConnectAsync("bob");
        await ConnectAsync("carol"); // evicts alice (least recently used)
        Assert.Equal(3, backend.CallsTo("/proxy/connect"));
        await ConnectAsync("carol");
        await ConnectAsync("alice");
        Assert.Equal(4, backend.CallsTo("/proxy/connect"));

        clock.Advance(TimeSpan.FromSeconds(31));
        await ConnectAsync("alice");
        Assert.Equal(5, backend.CallsTo("/proxy/connect"));
    }

    [Fact]
    public async Task TheSubscribeProxyDecidesChannelsAskedForWithoutAToken()
    {
        await using var backend = await BackendApp.StartAsync();
        await using var node = await IdentityNode.StartAsync(o =>
        {
            backend.Proxy(o);
            o.Proxy.CacheTtl = TimeSpan.Zero;
        }, allowWarnings: true);
        await using var alice = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie("alice"));

        var ok = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelSubscribeEventName, new { channel = "board" }))[0];
        Assert.True(ok.GetProperty("ok").GetBoolean());
        var call = backend.Calls.Last();
        Assert.Equal("/proxy/subscribe", call.Path);
        Assert.Equal("alice", call.Body.GetProperty("user").GetString());
        Assert.Equal("board", call.Body.GetProperty("channel").GetString());
        await node.Publisher.ChannelAsync("board", "post", 1);
        await alice.NextAsync("post");

        backend.Behaviour = BackendBehaviour.Deny;
        var denied = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelSubscribeEventName, new { channel = "admin" }))[0];
        Assert.Equal("not_signed_in", denied.GetProperty("error").GetString());
        backend.Behaviour = BackendBehaviour.ServerError;
        var failed = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelSubscribeEventName, new { channel = "admin" }))[0];
        Assert.Equal(ProxyErrorCodes.Unavailable, failed.GetProperty("error").GetString());
        backend.Behaviour = BackendBehaviour.Hang;
        await using (var sse = await node.OpenSseAsync("?channel=admin"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, sse.StatusCode); // the connect proxy hangs too
        }

        await node.Publisher.ChannelAsync("admin", "post", 2);
        await node.Publisher.AllAsync("marker");
        await alice.NextAsync("marker");
    }

    [Fact]
    public async Task ThePublishProxyLetsAClientPublishIntoAChannelAndMayReplaceTheData()
    {
        await using var backend = await BackendApp.StartAsync();
        await using var node = await IdentityNode.StartAsync(backend.Proxy, allowWarnings: true);
        await using var alice = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie("alice"));
        await using var bob = await IdClient.ConnectAsync(node.BaseUrl, null, Cookie("bob"));

        var ok = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelPublishEventName, new { channel = "lobby", @event = "chat", data = new { text = "hi" } }))[0];
        Assert.True(ok.GetProperty("ok").GetBoolean());
        var chat = await bob.NextAsync("chat");
        Assert.Equal("hi", chat.Args[0].GetProperty("text").GetString());
        Assert.Equal("lobby", chat.Args[1].GetString());
        var call = backend.Calls.Last();
        Assert.Equal("alice", call.Body.GetProperty("user").GetString());
        Assert.Equal("hi", call.Body.GetProperty("data").GetProperty("text").GetString());

        backend.ReplaceData = new { text = "[moderated]" };
        await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelPublishEventName, new { channel = "lobby", @event = "chat", data = new { text = "bad word" } });
        Assert.Equal("[moderated]", (await bob.NextAsync("chat")).Args[0].GetProperty("text").GetString());

        backend.Behaviour = BackendBehaviour.Deny;
        var denied = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelPublishEventName, new { channel = "lobby", @event = "chat", data = 1 }))[0];
        Assert.Equal("not_signed_in", denied.GetProperty("error").GetString());
        backend.Behaviour = BackendBehaviour.Hang;
        var timedOut = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelPublishEventName, new { channel = "lobby", @event = "chat", data = 2 }))[0];
        Assert.Equal(ProxyErrorCodes.Unavailable, timedOut.GetProperty("error").GetString());
        var reserved = (await alice.EmitWithAckAsync(HeraldIdentityManager.ChannelPublishEventName, new { channel = "lobby", @event = "herald:message", data = 3 }))[0];
        Assert.Equal("invalid", reserved.GetProperty("error").GetString());

        await node.Publisher.AllAsync("marker");
        await bob.NextAsync("marker");
    }

    private static async Task<Herald.Testing.Sse.SseTestClient> SseTestClientWithCookie(IdentityNode node, string user)
    {
        var client = await Herald.Testing.Sse.SseTestClient.ConnectAsync(node.Http, node.BaseUrl + "/events", null, r => r.Headers.Add("Cookie", "session=" + user)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        Assert.Equal("herald:open", (await client.ReadEventAsync().DefaultTimeout()).Type);
        return client;
    }
}
