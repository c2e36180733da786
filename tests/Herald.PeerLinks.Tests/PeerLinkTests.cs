using System.Net;
using System.Net.WebSockets;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

public sealed class PeerLinkTests
{
    public sealed record Order(int Id, string Customer);

    [Fact]
    public async Task Greeting_ReachesTheLinkedNode_AndNotANodeWithoutALinkToThePublisher()
    {
        await using var rpc1 = await PeerNode.StartAsync("rpc-server-1");
        await using var rpc2 = await PeerNode.StartAsync("rpc-server-2");
        await using var rpc3 = await PeerNode.StartAsync("rpc-server-3");

        var at2 = new Collector<string>();
        var at3 = new Collector<string>();
        await rpc2.Channel.Subscribe<string>("greeting", at2.Add).Ready.DefaultTimeout();
        await rpc3.Channel.Subscribe<string>("greeting", m => at3.Add("greeting:" + m)).Ready.DefaultTimeout();
        await rpc3.Channel.Subscribe<string>("fence", m => at3.Add("fence:" + m)).Ready.DefaultTimeout();

        // rpc-server-2 links to rpc-server-1 (its subscriptions made before the link are carried over);
        // rpc-server-3 links to rpc-server-2 only.
        var link = await rpc2.Channel.ConnectAsync("rpc-server-1", rpc1.ChannelUri, PeerNode.Key).DefaultTimeout();
        Assert.Equal(MessageBusState.Connected, link.State);
        await rpc3.Channel.ConnectAsync("rpc-server-2", rpc2.ChannelUri, PeerNode.Key).DefaultTimeout();

        await rpc1.Channel.PublishAsync("greeting", "Hello, World!").DefaultTimeout();
        Assert.Equal("Hello, World!", await at2.WaitForAsync(_ => true).DefaultTimeout());

        // rpc-server-2 publishes the fence after it received the greeting: had the greeting been passed on to
        // rpc-server-3 (links are not transitive), it would be ahead of the fence on the same link.
        await rpc2.Channel.PublishAsync("fence", "after greeting").DefaultTimeout();
        await at3.WaitForAsync(m => m == "fence:after greeting").DefaultTimeout();
        Assert.Equal(["fence:after greeting"], at3.Items);
        Assert.Equal(["Hello, World!"], at2.Items);
    }

    [Fact]
    public async Task PublicationsOfTheLinkingNode_ReachTheLinkedNode_AndAreNotEchoedBack()
    {
        await using var rpc1 = await PeerNode.StartAsync("rpc-server-1");
        await using var rpc2 = await PeerNode.StartAsync("rpc-server-2");
        var at1 = new Collector<string>();
        var at2 = new Collector<string>();
        await rpc1.Channel.Subscribe<string>("greeting", at1.Add).Ready.DefaultTimeout();
        await rpc2.Channel.ConnectAsync("rpc-server-1", rpc1.ChannelUri).DefaultTimeout();
        await rpc2.Channel.Subscribe<string>("greeting", at2.Add).Ready.DefaultTimeout();

        await rpc2.Channel.PublishAsync("greeting", "from 2").DefaultTimeout();
        await at1.WaitForAsync(m => m == "from 2").DefaultTimeout();
        await rpc1.Channel.PublishAsync("greeting", "fence").DefaultTimeout();
        await at2.WaitForAsync(m => m == "fence").DefaultTimeout();

        // rpc-server-2 got its own publication once (locally), not a second time from rpc-server-1.
        Assert.Equal(["from 2", "fence"], at2.Items);
        Assert.Equal(["from 2", "fence"], at1.Items);
    }

    [Fact]
    public async Task PatternSubscriptions_TravelOverTheLink()
    {
        await using var rpc1 = await PeerNode.StartAsync("rpc-server-1");
        await using var rpc2 = await PeerNode.StartAsync("rpc-server-2");
        await rpc2.Channel.ConnectAsync("rpc-server-1", rpc1.ChannelUri).DefaultTimeout();
        var orders = new Collector<(string Topic, Order Order)>();
        await rpc2.Channel.SubscribePattern<Order>("orders.*", (t, o) => orders.Add((t, o))).Ready.DefaultTimeout();

        await rpc1.Channel.PublishAsync("orders.created", new Order(1, "ada")).DefaultTimeout();
        await rpc1.Channel.PublishAsync("invoices.created", new Order(2, "bob")).DefaultTimeout();
        await rpc1.Channel.PublishAsync("orders.paid", new Order(3, "cy")).DefaultTimeout();
        await orders.WaitForAsync(o => o.Topic == "orders.paid").DefaultTimeout();

        Assert.Equal([("orders.created", new Order(1, "ada")), ("orders.paid", new Order(3, "cy"))], orders.Items);
    }

    [Fact]
    public async Task Unsubscribing_StopsDeliveryOverTheLink()
    {
        await using var rpc1 = await PeerNode.StartAsync("rpc-server-1");
        await using var rpc2 = await PeerNode.StartAsync("rpc-server-2");
        await rpc2.Channel.ConnectAsync("rpc-server-1", rpc1.ChannelUri).DefaultTimeout();
        var received = new Collector<string>();
        var greeting = rpc2.Channel.Subscribe<string>("greeting", m => received.Add("greeting:" + m));
        await greeting.Ready.DefaultTimeout();
        await rpc2.Channel.Subscribe<string>("fence", m => received.Add("fence:" + m)).Ready.DefaultTimeout();
        await rpc1.Channel.PublishAsync("greeting", "one").DefaultTimeout();
        await received.WaitForAsync(m => m == "greeting:one").DefaultTimeout();

        await greeting.DisposeAsync();
        await rpc1.Channel.PublishAsync("greeting", "two").DefaultTimeout();
        await rpc1.Channel.PublishAsync("fence", "end").DefaultTimeout();
        await received.WaitForAsync(m => m == "fence:end").DefaultTimeout();
        Assert.Equal(["greeting:one", "fence:end"], received.Items);
    }

    [Fact]
    public async Task WrongOrMissingKey_IsRefused401BeforeTheUpgrade()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1");
        using var http = new HttpClient();

        using var missing = await http.GetAsync(node.HttpBase + "/herald/channel").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, node.HttpBase + "/herald/channel");
        wrong.Headers.Add(PeerLinkHeaders.Key, "not-the-key");
        using var wrongResponse = await http.SendAsync(wrong).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Get, node.HttpBase + "/herald/channel");
        right.Headers.Add(PeerLinkHeaders.Key, PeerNode.Key);
        using var notUpgrade = await http.SendAsync(right).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, notUpgrade.StatusCode);

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key + "x");
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(node.ChannelUri, CancellationToken.None)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);

        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("worker-1")), PeerNode.Fast(new PeerLinkOptions()));
        var refused = await Assert.ThrowsAsync<PeerLinkException>(() => worker.ConnectAsync("rpc-server-1", node.ChannelUri, "wrong")).DefaultTimeout();
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
        Assert.Empty(worker.Links);
        Assert.Equal(0, node.Services.GetRequiredService<PeerLinkServer>().SessionCount);
    }

    [Fact]
    public async Task ANodeAnnouncingAnotherName_IsRefused()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1");
        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("worker-1")), PeerNode.Fast(new PeerLinkOptions()));
        var e = await Assert.ThrowsAsync<PeerLinkException>(() => worker.ConnectAsync("rpc-server-9", node.ChannelUri)).DefaultTimeout();
        Assert.Contains("rpc-server-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LinkCutAndRestored_Reconnects_Resubscribes_AndDeliveryResumes()
    {
        var rpc1 = await PeerNode.StartAsync("rpc-server-1");
        var port = rpc1.Port;
        await using var rpc2 = await PeerNode.StartAsync("rpc-server-2");
        var link = await rpc2.Channel.ConnectAsync("rpc-server-1", rpc1.ChannelUri).DefaultTimeout();
        var received = new Collector<string>();
        await rpc2.Channel.Subscribe<string>("greeting", m => received.Add("greeting:" + m)).Ready.DefaultTimeout();
        await rpc1.Channel.PublishAsync("greeting", "before").DefaultTimeout();
        await received.WaitForAsync(m => m == "greeting:before").DefaultTimeout();

        var down = WaitForState(link, MessageBusState.Disconnected);
        await rpc1.StopAsync();
        await down.DefaultTimeout();

        // A subscription made while the link is down is restored with the others when it comes back.
        await rpc2.Channel.Subscribe<string>("late", m => received.Add("late:" + m)).Ready.DefaultTimeout();
        Assert.Equal(1, link.ConnectionCount);

        var up = WaitForState(link, MessageBusState.Connected);
        await using var restarted = await PeerNode.StartAsync("rpc-server-1", port);
        await up.DefaultTimeout();
        Assert.Equal(2, link.ConnectionCount);

        await restarted.Channel.PublishAsync("greeting", "after").DefaultTimeout();
        await restarted.Channel.PublishAsync("late", "also").DefaultTimeout();
        await received.WaitForAsync(m => m == "late:also").DefaultTimeout();
        Assert.Equal(["greeting:before", "greeting:after", "late:also"], received.Items);
    }

    [Fact]
    public async Task AWorker_PublishesThroughItsLink_OnTheWebNodesBus()
    {
        await using var web = await PeerNode.StartAsync("web-server-1");
        var received = new Collector<(string Channel, string Payload)>();
        await using var subscription = await web.Bus.Local.SubscribeAsync("cluster:broadcast", m =>
        {
            received.Add((m.Channel, Encoding.UTF8.GetString(m.Payload.Span)));
            return ValueTask.CompletedTask;
        }).DefaultTimeout();

        // A worker: no web host, its own in-memory bus, one link.
        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("rpc-server")), PeerNode.Fast(new PeerLinkOptions()), ownsLocalBus: true);
        await worker.ConnectAsync("web-server-1", web.ChannelUri).DefaultTimeout();
        const string envelope = """{"v":1,"source":"rpc-server","kind":"broadcast","nsp":"/","packet":{"type":2,"data":["greeting","hi"]}}""";
        await worker.PublishAsync("cluster:broadcast", Encoding.UTF8.GetBytes(envelope)).DefaultTimeout();

        var message = await received.WaitForAsync(_ => true).DefaultTimeout();
        Assert.Equal(("cluster:broadcast", envelope), message);
    }

    [Fact]
    public async Task BadFrames_CloseTheLinkCleanly()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1");
        foreach (var (type, bytes, status) in new (WebSocketMessageType, byte[], WebSocketCloseStatus)[]
        {
            (WebSocketMessageType.Binary, [0x01, 0x00, 0x09, 0x41], WebSocketCloseStatus.InvalidPayloadData),
            (WebSocketMessageType.Binary, [0x07], WebSocketCloseStatus.InvalidPayloadData),
            (WebSocketMessageType.Text, "{not json"u8.ToArray(), WebSocketCloseStatus.InvalidPayloadData),
            (WebSocketMessageType.Text, "[1]"u8.ToArray(), WebSocketCloseStatus.InvalidPayloadData),
        })
        {
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key);
            await socket.ConnectAsync(node.ChannelUri, CancellationToken.None).DefaultTimeout();
            var buffer = new byte[4096];
            var welcome = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            Assert.Equal(WebSocketMessageType.Text, welcome.MessageType);
            Assert.Contains("\"node\":\"rpc-server-1\"", Encoding.UTF8.GetString(buffer, 0, welcome.Count), StringComparison.Ordinal);

            await socket.SendAsync(bytes, type, true, CancellationToken.None).DefaultTimeout();
            var close = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            Assert.Equal(status, socket.CloseStatus);
        }
    }

    [Fact]
    public async Task AnOversizedFrame_ClosesWith1009()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1", services: s => s.Configure<PeerLinkServerOptions>(o => o.MaxMessageSize = 1024));
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key);
        await socket.ConnectAsync(node.ChannelUri, CancellationToken.None).DefaultTimeout();
        var buffer = new byte[4096];
        await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        var big = new byte[5000];
        big[0] = PeerLinkProtocolConstants.Publish;
        big[2] = 1;
        big[3] = (byte)'x';
        await socket.SendAsync(big, WebSocketMessageType.Binary, true, CancellationToken.None).DefaultTimeout();
        var close = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    private static Task WaitForState(PeerLink link, MessageBusState state)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        link.StateChanged += (_, e) =>
        {
            if (e.Current == state)
            {
                tcs.TrySetResult();
            }
        };
        return tcs.Task;
    }

    private static class PeerLinkProtocolConstants
    {
        public const byte Publish = 0x01;
    }
}

public class PeerLinkAuthorizationTests
{
    [Fact]
    public async Task AuthorizeSubscription_RefusesAChannel_AndTheLinkStaysUp()
    {
        var asked = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var node = await PeerNode.StartAsync("rpc-server-1", services: s => s.Configure<PeerLinkServerOptions>(o =>
            o.AuthorizeSubscription = (remote, name, isPattern) =>
            {
                asked.Enqueue($"{remote}:{name}:{isPattern}");
                return !name.StartsWith("secret", StringComparison.Ordinal);
            }));
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key);
        socket.Options.SetRequestHeader("Herald-Node", "worker-1");
        await socket.ConnectAsync(node.ChannelUri, CancellationToken.None).DefaultTimeout();
        var buffer = new byte[4096];
        await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();

        async Task<string> SubscribeAsync(string json)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
            var answer = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            return Encoding.UTF8.GetString(buffer, 0, answer.Count);
        }

        Assert.Equal("{\"type\":\"error\",\"id\":1,\"message\":\"subscription refused\"}", await SubscribeAsync("{\"type\":\"subscribe\",\"id\":1,\"channel\":\"secret:payroll\"}"));
        Assert.Equal("{\"type\":\"error\",\"id\":2,\"message\":\"subscription refused\"}", await SubscribeAsync("{\"type\":\"subscribe\",\"id\":2,\"pattern\":\"secret*\"}"));
        Assert.Equal("{\"type\":\"subscribed\",\"id\":3}", await SubscribeAsync("{\"type\":\"subscribe\",\"id\":3,\"channel\":\"topic:greeting\"}"));
        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Contains(asked, a => a.EndsWith(":secret:payroll:False", StringComparison.Ordinal));
        Assert.Contains(asked, a => a.EndsWith(":secret*:True", StringComparison.Ordinal));
    }
}
