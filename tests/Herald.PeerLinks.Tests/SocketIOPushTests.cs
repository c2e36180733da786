using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Messaging.Emitters;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// app.message.ws over peer links: a worker with no web server, linked to two web nodes (Socket.IO with the cluster
/// adapter over their own in-memory buses), pushes to their Socket.IO clients.
/// </summary>
public sealed class SocketIOPushTests
{
    private static Task<PeerNode> StartWebAsync(string name)
        => PeerNode.StartAsync(name,
            services: s => s.AddSocketIO().AddClusterAdapter(),
            map: app => app.MapSocketIO("/socket.io"));

    [Fact]
    public async Task AWorker_EmitsToTheSocketIOClientsOfEveryLinkedWebNode_AndViaToOneOnly()
    {
        await using var web1 = await StartWebAsync("web-server-1");
        await using var web2 = await StartWebAsync("web-server-2");
        await using var client1 = await SocketIOTestClient.ConnectWebSocketAsync(new Uri(web1.HttpBase)).DefaultTimeout();
        await using var client2 = await SocketIOTestClient.ConnectWebSocketAsync(new Uri(web2.HttpBase)).DefaultTimeout();
        await client1.ConnectAsync().DefaultTimeout();
        await client2.ConnectAsync().DefaultTimeout();

        await using var worker = new PeerLinkMessageBus(new InMemoryMessageBus(new HeraldNode("rpc-server")), PeerNode.Fast(new PeerLinkOptions()), ownsLocalBus: true);
        await worker.ConnectAsync("web-server-1", web1.ChannelUri).DefaultTimeout();
        await worker.ConnectAsync("web-server-2", web2.ChannelUri).DefaultTimeout();
        await using var ws = new SocketIOEmitter(worker);

        await ws.EmitAsync("greeting", "Hello, World!").DefaultTimeout();
        Assert.Equal("""2["greeting","Hello, World!"]""", await client1.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["greeting","Hello, World!"]""", await client2.ReceiveTextAsync().DefaultTimeout());

        // Via web-server-1, then a fence to everyone: web-server-2's client sees the fence first and only.
        await ws.Via("web-server-1").EmitAsync("only-1", 1).DefaultTimeout();
        await ws.EmitAsync("fence").DefaultTimeout();
        Assert.Equal("""2["only-1",1]""", await client1.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["fence"]""", await client1.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["fence"]""", await client2.ReceiveTextAsync().DefaultTimeout());
    }
}
