using Herald.Messaging;
using Herald.Messaging.Publish;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Sessions.Tests;

/// <summary>
/// Two web nodes and a worker (a bus node with no web server) on one real redis-server: Redis bus, Redis session store.
/// </summary>
public sealed class SessionClusterTests : IAsyncLifetime
{
    private RedisServerFixture? _redis;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private Task<SessionsNode> StartNodeAsync(string name) => SessionsNode.StartAsync(services: s =>
    {
        s.AddHeraldRedis(_redis!.ConnectionString);
        s.AddHeraldRedisSessions(_redis.ConnectionString);
        s.AddHeraldMessaging(o => o.NodeName = name);
    }, sessions: o => o.AuthorizeMessageSubscription = _ => ValueTask.FromResult(true)); // typed messages are deny-by-default

    /// <summary>A worker process's view: its own Redis bus connection and a <see cref="Publisher"/>, no web server.</summary>
    private async Task<(RedisMessageBus Bus, Publisher Publisher)> StartWorkerAsync()
    {
        var bus = new RedisMessageBus(new HeraldNode("worker-1"), Options.Create(new RedisMessageBusOptions { Connection = RedisConnectionOptions.Parse(_redis!.ConnectionString) }));
        return (bus, new Publisher(bus));
    }

    [Fact]
    public async Task AReconnectToAnotherNodeWithTheSameSessionIsResubscribed()
    {
        await using var web1 = await StartNodeAsync("web-1");
        await using var web2 = await StartNodeAsync("web-2");
        var (bus, worker) = await StartWorkerAsync();
        await using var _ = bus;
        var browser = await web1.NewBrowserSessionAsync();

        var tab = await web1.ConnectAsync(browser);
        await tab.EmitWithAckAsync("subscribe", (object)new[] { "disney", "pixar" });
        await tab.EmitWithAckAsync("login", "fred");
        await tab.DisposeAsync();

        await using var again = await web2.ConnectAsync(browser);
        var list = (await again.EmitWithAckAsync("list"))[0];
        Assert.Equal(["disney", "pixar"], list.EnumerateArray().Select(e => e.GetString()));

        await worker.ChannelAsync(["pixar", "disney"], "chatMessage", "from the worker");
        var e = await again.NextAsync("chatMessage");
        Assert.Equal(["from the worker", "pixar"], e.Args.Select(a => a.GetString()));
        await worker.UserAsync("fred", "specialOffer", 1);
        await again.NextAsync("specialOffer");
    }

    [Fact]
    public async Task AChangeOnOneNodeReachesTheSessionsClientsOnTheOther()
    {
        await using var web1 = await StartNodeAsync("web-1");
        await using var web2 = await StartNodeAsync("web-2");
        var (bus, worker) = await StartWorkerAsync();
        await using var _ = bus;
        var browser = await web1.NewBrowserSessionAsync();
        var otherBrowser = await web1.NewBrowserSessionAsync();
        await using var tab1 = await web1.ConnectAsync(browser);
        await using var tab2 = await web2.ConnectAsync(browser);
        await using var otherTab = await web2.ConnectAsync(otherBrowser);
        var (sse, sseId) = await web2.ConnectSseAsync(browser);
        await using var sseScope = sse;
        await otherTab.EmitWithAckAsync("login", "fred");

        // Subscribed and signed in through the tab on web-1; the tab and the EventSource on web-2 follow.
        await tab1.EmitWithAckAsync("subscribe", (object)new[] { "disney" });
        await tab1.EmitWithAckAsync("login", "fred");
        await worker.ChannelAsync("disney", "chatMessage", "hi");
        await worker.UserAsync("fred", "specialOffer", "offer");
        foreach (var tab in new[] { tab1, tab2 })
        {
            Assert.Equal("disney", (await tab.NextAsync("chatMessage")).Args[1].GetString());
            await tab.NextAsync("specialOffer");
        }

        Assert.Equal("disney", (await sse.NextSseAsync("chatMessage"))[1].GetString());
        await sse.NextSseAsync("specialOffer");
        await otherTab.NextAsync("specialOffer");

        // Sign-out on web-1 stops user events for the whole session on both nodes, not for the user's other session.
        await tab1.EmitWithAckAsync("logout");
        await worker.UserAsync("fred", "specialOffer", "second");
        await worker.SocketIdAsync(tab2.Id, "justForMe", "tab2");
        await worker.SocketIdAsync(sseId, "justForMe", "sse");
        await worker.AllAsync("marker");
        await tab1.NextAsync("marker");
        Assert.Equal("tab2", (await tab2.NextAsync("justForMe")).Args[0].GetString());
        await tab2.NextAsync("marker");
        Assert.Equal("sse", (await sse.NextSseAsync("justForMe"))[0].GetString());
        await sse.NextSseAsync("marker");
        await otherTab.NextAsync("specialOffer");
        await otherTab.NextAsync("marker");
    }

    [Fact]
    public async Task AWorkerSendsTypedMessagesToSubscribersOnEveryNode()
    {
        await using var web1 = await StartNodeAsync("web-1");
        await using var web2 = await StartNodeAsync("web-2");
        var (bus, worker) = await StartWorkerAsync();
        await using var _ = bus;
        await using var a = await web1.ConnectAsync(await web1.NewBrowserSessionAsync());
        await using var b = await web2.ConnectAsync(await web2.NewBrowserSessionAsync());
        var subscription = new { source = new { type = "User", key = "42" }, type = "UserAdded" };
        Assert.True((await a.EmitWithAckAsync("herald:subscribe", subscription))[0].GetProperty("ok").GetBoolean());
        Assert.True((await b.EmitWithAckAsync("herald:subscribe", subscription))[0].GetProperty("ok").GetBoolean());

        var fred = new User("42", "Fred", new Address("Bedrock", new GeoPoint(1, 2)), ["x"]);
        await worker.SendMessageAsync(fred, new UserRemoved("42"));
        await worker.SendMessageAsync(fred, new UserAdded(fred));
        foreach (var tab in new[] { a, b })
        {
            var payload = (await tab.NextAsync(Publisher.MessageEventName)).Args.Single();
            Assert.Equal("UserAdded", payload.GetProperty("type").GetString());
            Assert.Equal("Bedrock", payload.GetProperty("message").GetProperty("user").GetProperty("address").GetProperty("city").GetString());
        }
    }
}
