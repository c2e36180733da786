using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// Sse.Via over peer links: a worker linked to two web nodes sends, emits and closes through one of them; the clients
/// of the other node never see it (checked with a fence: the next event they read is the fence).
/// </summary>
public sealed class SseViaPushTests
{
    private static Task<PeerNode> StartWebAsync(string name)
        => PeerNode.StartAsync(name,
            services: s => s.AddServerSentEvents(o => o.HeartbeatInterval = TimeSpan.FromMinutes(10)),
            map: app => app.MapServerSentEvents("/events"));

    private static async Task<(SseTestClient Client, string Id)> ConnectAsync(HttpClient http, PeerNode node, string query = "")
    {
        var client = await SseTestClient.ConnectAsync(http, node.HttpBase + "/events" + query).DefaultTimeout();
        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("herald:open", open.Type);
        return (client, JsonDocument.Parse(open.Data).RootElement.GetProperty("clientId").GetString()!);
    }

    [Fact]
    public async Task AWorker_SendsEmitsAndClosesThroughOneWebNode_AndTheOtherNodesClientsSeeNothing()
    {
        await using var web1 = await StartWebAsync("web-1");
        await using var web2 = await StartWebAsync("web-2");
        using var http = new HttpClient();
        var (a, aId) = await ConnectAsync(http, web1, "?topic=news");
        var (c, _) = await ConnectAsync(http, web1);
        var (b, bId) = await ConnectAsync(http, web2, "?topic=news");
        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("rpc-server")), PeerNode.Fast(new PeerLinkOptions()), ownsLocalBus: true);
        try
        {
            await worker.ConnectAsync("web-1", web1.ChannelUri).DefaultTimeout();
            await worker.ConnectAsync("web-2", web2.ChannelUri).DefaultTimeout();
            var sse = new SseEmitter(worker);

            // One client of web-1, by id: Emit then Send.
            await sse.Via("web-1").To(aId).EmitAsync("direct", new { N = 1 }).DefaultTimeout();
            await sse.Via("web-1").To(aId).SendAsync("plain text").DefaultTimeout();
            // A topic, through web-1 only: b (web-2, also on "news") must not get it.
            await sse.Via("web-1").To("news").EmitAsync("news", "only web-1").DefaultTimeout();
            // b's id through web-1: b is not there, so nobody gets it.
            await sse.Via("web-1").To(bId).EmitAsync("wrong-node").DefaultTimeout();
            // The fence, to everyone on both nodes, published after the rest by the same worker.
            await sse.EmitAsync("fence").DefaultTimeout();

            Assert.Equal(("direct", """{"n":1}"""), Read(await a.ReadEventAsync().DefaultTimeout()));
            Assert.Equal(("message", "plain text"), Read(await a.ReadEventAsync().DefaultTimeout()));
            Assert.Equal(("news", "only web-1"), Read(await a.ReadEventAsync().DefaultTimeout()));
            Assert.Equal("fence", (await a.ReadEventAsync().DefaultTimeout()).Type);
            Assert.Equal("fence", (await b.ReadEventAsync().DefaultTimeout()).Type);
            Assert.Equal("fence", (await c.ReadEventAsync().DefaultTimeout()).Type);

            // Close through web-1 ends a's stream for good; Close of b's id through web-1 does nothing.
            await sse.Via("web-1").To(bId).CloseAsync().DefaultTimeout();
            await sse.Via("web-1").To(aId).CloseAsync().DefaultTimeout();
            await sse.EmitAsync("after-close").DefaultTimeout();
            Assert.DoesNotContain(await a.ReadToEndAsync().DefaultTimeout(), e => e.Type == "after-close");
            Assert.Equal("after-close", (await b.ReadEventAsync().DefaultTimeout()).Type);
            Assert.Equal("after-close", (await c.ReadEventAsync().DefaultTimeout()).Type);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            await c.DisposeAsync();
        }
    }

    private static (string?, string) Read(SseTestEvent e) => (e.Type, e.Data);
}
