using System.Net;
using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.Testing;

namespace Herald.Sessions.Tests;

/// <summary>One node, in-memory bus and store: sessions, channels, users, socket ids, typed messages, over Socket.IO and SSE.</summary>
public sealed class SessionTests
{
    [Fact]
    public async Task TabsOfOneBrowserShareTheSessionAndItsChannels()
    {
        await using var node = await SessionsNode.StartAsync();
        var browser = await node.NewBrowserSessionAsync();
        await using var tab1 = await node.ConnectAsync(browser);
        await using var tab2 = await node.ConnectAsync(browser);
        await using var stranger = await node.ConnectAsync(await node.NewBrowserSessionAsync());

        var who1 = (await tab1.EmitWithAckAsync("whoami"))[0];
        var who2 = (await tab2.EmitWithAckAsync("whoami"))[0];
        Assert.Equal(node.SessionIdOf(browser), who1.GetProperty("session").GetString());
        Assert.Equal(node.SessionIdOf(browser), who2.GetProperty("session").GetString());
        Assert.NotEqual(who1.GetProperty("socket").GetString(), who2.GetProperty("socket").GetString());

        Assert.True((await tab1.EmitWithAckAsync("subscribe", (object)new[] { "disney" }))[0].GetBoolean());
        await node.Publisher.ChannelAsync("disney", "chatMessage", new { from = "jerry", message = "Has anyone seen Tom?" });
        await node.Publisher.AllAsync("marker");

        foreach (var tab in new[] { tab1, tab2 })
        {
            var e = await tab.NextAsync("chatMessage");
            Assert.Equal(2, e.Args.Length);
            Assert.Equal("jerry", e.Args[0].GetProperty("from").GetString());
            Assert.Equal("disney", e.Args[1].GetString());
            await tab.NextAsync("marker");
        }

        await stranger.NextAsync("marker");

        // A tab opened later (or a reload) is in the session's channels at once.
        await using var tab3 = await node.ConnectAsync(browser);
        await node.Publisher.ChannelAsync("disney", "chatMessage", "again");
        Assert.Equal("disney", (await tab3.NextAsync("chatMessage")).Args[1].GetString());
        var list = (await tab3.EmitWithAckAsync("list"))[0];
        Assert.Equal(["disney"], list.EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task AClientInSeveralTargetedChannelsGetsTheEventOnceWithTheFirstMatchingChannelLast()
    {
        await using var node = await SessionsNode.StartAsync();
        await using var all = await node.ConnectAsync(await node.NewBrowserSessionAsync());
        await using var onlyC = await node.ConnectAsync(await node.NewBrowserSessionAsync());
        await using var none = await node.ConnectAsync(await node.NewBrowserSessionAsync());
        await all.EmitWithAckAsync("subscribe", (object)new[] { "a", "b", "c" });
        await onlyC.EmitWithAckAsync("subscribe", (object)new[] { "c" });

        await node.Publisher.ChannelAsync(["b", "a", "c", "b"], "ev", 1, new { x = 2 });
        await node.Publisher.AllAsync("marker");

        var e = await all.NextAsync("ev");
        Assert.Equal(["1", "{\"x\":2}", "b"], e.Args.Select(Json.Str));
        await all.NextAsync("marker");
        Assert.Equal("c", (await onlyC.NextAsync("ev")).Args[^1].GetString());
        await onlyC.NextAsync("marker");
        await none.NextAsync("marker");
    }

    [Fact]
    public async Task SignOutStopsUserEventsForThatSessionOnly()
    {
        await using var node = await SessionsNode.StartAsync();
        var laptop = await node.NewBrowserSessionAsync();
        var phone = await node.NewBrowserSessionAsync();
        await using var laptopTab1 = await node.ConnectAsync(laptop);
        await using var laptopTab2 = await node.ConnectAsync(laptop);
        await using var phoneTab = await node.ConnectAsync(phone);
        await laptopTab1.EmitWithAckAsync("login", "fred");
        await phoneTab.EmitWithAckAsync("login", "fred");

        await node.Publisher.UserAsync("fred", "specialOffer", "Here is a special offer just for you!");
        foreach (var tab in new[] { laptopTab1, laptopTab2, phoneTab })
        {
            Assert.Equal("Here is a special offer just for you!", Assert.Single((await tab.NextAsync("specialOffer")).Args).GetString());
        }

        await laptopTab2.EmitWithAckAsync("logout");
        await node.Publisher.UserAsync(["fred", "wilma"], "specialOffer", "second");
        await node.Publisher.AllAsync("marker");
        await laptopTab1.NextAsync("marker");
        await laptopTab2.NextAsync("marker");
        await phoneTab.NextAsync("specialOffer");
        await phoneTab.NextAsync("marker");
    }

    [Fact]
    public async Task SocketIdReachesOneTabOnly()
    {
        await using var node = await SessionsNode.StartAsync();
        var browser = await node.NewBrowserSessionAsync();
        await using var tab1 = await node.ConnectAsync(browser);
        await using var tab2 = await node.ConnectAsync(browser);

        await node.Publisher.SocketIdAsync(tab1.Id, "justForMe", "Just for one tab");
        await node.Publisher.AllAsync("marker");
        Assert.Equal("Just for one tab", (await tab1.NextAsync("justForMe")).Args[0].GetString());
        await tab1.NextAsync("marker");
        await tab2.NextAsync("marker");
    }

    [Fact]
    public async Task UnsubscribeAndResetLeaveTheChannels()
    {
        await using var node = await SessionsNode.StartAsync();
        var browser = await node.NewBrowserSessionAsync();
        await using var tab1 = await node.ConnectAsync(browser);
        await using var tab2 = await node.ConnectAsync(browser);
        await tab1.EmitWithAckAsync("subscribe", (object)new[] { "kids", "disney", "news" });
        await tab2.EmitWithAckAsync("unsubscribe", (object)new[] { "kids" });
        Assert.Equal(["disney", "news"], (await tab1.EmitWithAckAsync("list"))[0].EnumerateArray().Select(e => e.GetString()));

        await node.Publisher.ChannelAsync("kids", "ev", 1);
        await node.Publisher.ChannelAsync("news", "ev", 2);
        Assert.Equal(2, (await tab1.NextAsync("ev")).Args[0].GetInt32());
        Assert.Equal(2, (await tab2.NextAsync("ev")).Args[0].GetInt32());

        await tab2.EmitWithAckAsync("reset");
        Assert.Empty((await tab1.EmitWithAckAsync("list"))[0].EnumerateArray());
        await node.Publisher.ChannelAsync(["disney", "news"], "ev", 3);
        await node.Publisher.AllAsync("marker");
        await tab1.NextAsync("marker");
        await tab2.NextAsync("marker");
    }

    [Fact]
    public async Task SseClientsOfASessionAreReachedByChannelUserAndId()
    {
        await using var node = await SessionsNode.StartAsync();
        var browser = await node.NewBrowserSessionAsync();
        await using var tab = await node.ConnectAsync(browser);
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "a" });
        var (sse, sseId) = await node.ConnectSseAsync(browser);
        await using var _ = sse;

        // Changes made after the EventSource connected reach it too (it is in the session's rooms).
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "b" });
        await tab.EmitWithAckAsync("login", "fred");

        await node.Publisher.ChannelAsync(["b", "a"], "chatMessage", new { from = "jerry" });
        var data = await sse.NextSseAsync("chatMessage");
        Assert.Equal("jerry", data[0].GetProperty("from").GetString());
        Assert.Equal("b", data[1].GetString());

        await node.Publisher.UserAsync("fred", "specialOffer", "hi fred");
        Assert.Equal("hi fred", (await sse.NextSseAsync("specialOffer"))[0].GetString());

        await node.Publisher.SocketIdAsync(sseId, "justForMe", 7);
        Assert.Equal(7, (await sse.NextSseAsync("justForMe"))[0].GetInt32());

        await tab.EmitWithAckAsync("logout");
        await tab.EmitWithAckAsync("unsubscribe", (object)new[] { "a", "b" });
        await node.Publisher.ChannelAsync(["a", "b"], "chatMessage", "gone");
        await node.Publisher.UserAsync("fred", "specialOffer", "gone");
        await node.Publisher.AllAsync("marker");
        await sse.NextSseAsync("marker");
    }

    [Fact]
    public async Task ChannelAndUserTopicsGrantedByTheApplicationsSseHookSurviveTheSessionReconcile()
    {
        // The application's SseOptions.Authorize may put a connection in a channel or user topic itself (Herald.Identity
        // does, from a connection token). The session layer's reconcile after connect used to drop every channel/user
        // topic that the session store did not list, so such a grant was silently undone a moment after connect.
        await using var node = await SessionsNode.StartAsync(services: s => Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.Configure<Herald.Sse.SseOptions>(s, o =>
            o.Authorize = _ => ValueTask.FromResult(Herald.Sse.SseAuthorizationResult.Accept(null, [HeraldRooms.User("alice"), HeraldRooms.Channel("granted")]))));
        var browser = await node.NewBrowserSessionAsync();
        await using var tab = await node.ConnectAsync(browser);
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "mine" });
        var (sse, _) = await node.ConnectSseAsync(browser);
        await using var sseScope = sse;

        // The reconcile runs right after connect; a session change after it is a barrier that it has completed.
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "later" });
        await node.Publisher.UserAsync("alice", "forAlice", 1);
        Assert.Equal(1, (await sse.NextSseAsync("forAlice"))[0].GetInt32());
        await node.Publisher.ChannelAsync("granted", "onGranted", 2);
        Assert.Equal(2, (await sse.NextSseAsync("onGranted"))[0].GetInt32());
        await node.Publisher.ChannelAsync("mine", "onMine", 3);
        Assert.Equal(3, (await sse.NextSseAsync("onMine"))[0].GetInt32());
    }

    [Fact]
    public async Task TypedMessagesRoundTripWithNestedObjectsAndAreFilteredBySourceAndType()
    {
        await using var node = await SessionsNode.StartAsync(sessions: o => o.AuthorizeMessageSubscription = r => ValueTask.FromResult(r.Source.Type != "Secret"));
        var browser = await node.NewBrowserSessionAsync();
        await using var tab = await node.ConnectAsync(browser);
        var (sse, _) = await node.ConnectSseAsync(browser, "?msgSource=User:42&msgType=UserAdded");
        await using var sseScope = sse;

        var ack = (await tab.EmitWithAckAsync("herald:subscribe", new { source = new { type = "User", key = "42" }, type = "UserAdded" }))[0];
        Assert.True(ack.GetProperty("ok").GetBoolean());
        ack = (await tab.EmitWithAckAsync("herald:subscribe", new { source = new { type = "Secret", key = "1" }, type = "UserAdded" }))[0];
        Assert.False(ack.GetProperty("ok").GetBoolean());
        Assert.Equal("forbidden", ack.GetProperty("error").GetString());
        ack = (await tab.EmitWithAckAsync("herald:subscribe", new { source = new { type = "Us er", key = "1" }, type = "UserAdded" }))[0];
        Assert.Equal("invalid", ack.GetProperty("error").GetString());

        var fred = new User("42", "Fred", new Address("Bedrock", new GeoPoint(1.5, -2.25)), ["admin", "caveman"]);
        var other = fred with { Id = "43" };
        await node.Publisher.SendMessageAsync(other, new UserAdded(other));           // another source
        await node.Publisher.SendMessageAsync(fred, new UserRemoved("42"));           // another type
        await node.Publisher.SendMessageAsync(MessageSource.For<User>("42"), new UserAdded(fred));
        await node.Publisher.AllAsync("marker");

        foreach (var payload in new[] { (await tab.NextAsync(Publisher.MessageEventName)).Args.Single(), await sse.NextSseAsync(Publisher.MessageEventName) })
        {
            Assert.Equal("User", payload.GetProperty("source").GetProperty("type").GetString());
            Assert.Equal("42", payload.GetProperty("source").GetProperty("key").GetString());
            Assert.Equal("UserAdded", payload.GetProperty("type").GetString());
            var user = payload.GetProperty("message").GetProperty("user").Deserialize<User>(JsonSerializerOptions.Web)!;
            Assert.Equal(fred.Name, user.Name);
            Assert.Equal(fred.Address, user.Address);
            Assert.Equal(fred.Tags, user.Tags);
        }

        await tab.NextAsync("marker");
        await sse.NextSseAsync("marker");

        ack = (await tab.EmitWithAckAsync("herald:unsubscribe", new { source = new { type = "User", key = "42" }, type = "UserAdded" }))[0];
        Assert.True(ack.GetProperty("ok").GetBoolean());
        await node.Publisher.SendMessageAsync(fred, new UserAdded(fred));
        await node.Publisher.AllAsync("marker");
        await tab.NextAsync("marker");
    }

    [Fact]
    public async Task BadSseMessageSubscriptionsAreRefused()
    {
        await using var node = await SessionsNode.StartAsync(sessions: o => o.AuthorizeMessageSubscription = r => ValueTask.FromResult(r.Source.Type != "Secret"));
        var browser = await node.NewBrowserSessionAsync();
        Assert.Equal(HttpStatusCode.BadRequest, await node.SseStatusAsync(browser, "?msgSource=User:42"));
        Assert.Equal(HttpStatusCode.BadRequest, await node.SseStatusAsync(browser, "?msgSource=User&msgType=UserAdded"));
        Assert.Equal(HttpStatusCode.Forbidden, await node.SseStatusAsync(browser, "?msgSource=Secret:1&msgType=UserAdded"));
    }

    [Fact]
    public async Task ASocketWithoutACookieGetsASessionOfItsOwnAndABadCookieIsReplaced()
    {
        await using var node = await SessionsNode.StartAsync();
        await using var bare = await node.ConnectAsync(null);
        var session = (await bare.EmitWithAckAsync("whoami"))[0].GetProperty("session").GetString();
        Assert.True(HeraldSessionManager.IsValidCookieValue(session));

        using var request = new HttpRequestMessage(HttpMethod.Get, node.BaseUrl + "/session");
        request.Headers.Add("Cookie", "herald.sid=bad;value");
        using var response = await node.Http.SendAsync(request).DefaultTimeout();
        Assert.StartsWith("herald.sid=", Assert.Single(response.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
        Assert.NotEqual("bad", await response.Content.ReadAsStringAsync());
    }
}
