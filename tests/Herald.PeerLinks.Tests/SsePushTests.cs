using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

/// <summary>The seed's story end to end: a worker with no web server pushes to a browser through a web node it links to.</summary>
public sealed class SsePushTests
{
    [Fact]
    public async Task AWorker_PushesToAnSseClientOfTheWebNode_ThroughItsLink()
    {
        await using var web = await PeerNode.StartAsync("web-server-1",
            services: s => s.AddServerSentEvents(o => o.HeartbeatInterval = TimeSpan.FromMinutes(10)),
            map: app => app.MapServerSentEvents("/events"));
        using var http = new HttpClient();
        await using var client = await SseTestClient.ConnectAsync(http, web.HttpBase + "/events").DefaultTimeout();
        Assert.Equal("herald:open", (await client.ReadEventAsync().DefaultTimeout()).Type);

        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("rpc-server")), PeerNode.Fast(new PeerLinkOptions()), ownsLocalBus: true);
        await worker.ConnectAsync("web-server-1", web.ChannelUri).DefaultTimeout();
        await new SseEmitter(worker).Via("web-server-1").EmitAsync("greeting", "Hello, World!").DefaultTimeout();

        var greeting = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("greeting", greeting.Type);
        Assert.Equal("Hello, World!", greeting.Data);
    }
}
