using System.Net;
using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

/// <summary>Two hubs made one by configuration only: a real redis-server, or a peer link.</summary>
public class ClusterTests
{
    [Fact]
    public async Task Two_hubs_on_one_redis_publish_to_each_others_clients_and_see_each_other()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        var aSeesB = NodeSeen(a, "hub-b");
        await using var b = await HubInstance.StartAsync("--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        await Adapter(a).Ready.DefaultTimeout();
        await Adapter(b).Ready.DefaultTimeout();
        await aSeesB.DefaultTimeout();

        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();

        // The API of hub-a reaches a client of hub-b: once to everyone, once to its id, once via hub-b only.
        await PostOk(a, "/api/emit", """{"event":"all","args":[1]}""");
        await PostOk(a, "/api/emit", $$"""{"event":"mine","rooms":["{{sid}}"]}""");
        await PostOk(a, "/api/emit", """{"event":"via","node":"hub-b"}""");
        await PostOk(a, "/api/emit", """{"event":"not-here","node":"hub-a"}""");
        await PostOk(a, "/api/emit", """{"event":"last"}""");
        Assert.Equal("""2["all",1]""", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["mine"]""", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["via"]""", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["last"]""", await client.ReceiveTextAsync().DefaultTimeout()); // "not-here" went to hub-a's clients only

        // hub-a's dashboard counts two servers and lists hub-b's socket (fetched across the cluster).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/overview");
        request.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
        using var overview = await a.Http.SendAsync(request).DefaultTimeout();
        var o = JsonDocument.Parse(await overview.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, o.GetProperty("servers").GetInt32());
        Assert.Equal(["hub-a", "hub-b"], o.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()).Order());

        using var socketsRequest = new HttpRequestMessage(HttpMethod.Get, "/admin/api/sockets");
        socketsRequest.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
        using var sockets = await a.Http.SendAsync(socketsRequest).DefaultTimeout();
        var remote = Assert.Single(JsonDocument.Parse(await sockets.Content.ReadAsStringAsync()).RootElement.EnumerateArray(), s => s.GetProperty("id").GetString() == sid);
        Assert.False(remote.GetProperty("local").GetBoolean());

        // And a disconnect through hub-a ends the socket on hub-b.
        await PostOk(a, "/api/disconnect", $$"""{"sockets":["{{sid}}"]}""");
        Assert.Equal("1", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task A_hub_linked_by_peer_link_pushes_to_the_other_hubs_clients()
    {
        const string channelKey = "peer-link-test-key-0123";
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=web-a", "--Herald:ChannelKey=" + channelKey);
        var channelUrl = new UriBuilder(a.Uri) { Scheme = "ws", Path = "/herald/channel" }.Uri;
        await using var b = await HubInstance.StartAsync("--Herald:NodeName=worker-b", "--Herald:ChannelKey=" + channelKey,
            "--Herald:PeerLinks:0:Name=web-a", "--Herald:PeerLinks:0:Url=" + channelUrl);
        var bus = (PeerLinkMessageBus)b.Services.GetRequiredService<IMessageBus>();
        await bus.Links["web-a"].WaitConnectedAsync().DefaultTimeout();

        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(a.Uri).DefaultTimeout();
        await client.ConnectAsync().DefaultTimeout();
        await PostOk(b, "/api/emit", """{"event":"from-worker","args":["over the link"]}""");
        Assert.Equal("""2["from-worker","over the link"]""", await client.ReceiveTextAsync().DefaultTimeout());

        // The channel endpoint refuses a wrong key before any upgrade.
        using var refused = await a.Http.GetAsync("/herald/channel").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_namespace_not_listed_is_refused_to_clients()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Namespaces:0=/orders", "--Herald:Namespaces:1=/tenant-*");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await client.ConnectAsync("/orders").DefaultTimeout();
        await client.ConnectAsync("/tenant-42").DefaultTimeout();
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.ConnectAsync("/")).DefaultTimeout();
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.ConnectAsync("/other")).DefaultTimeout();
    }

    private static ClusterAdapter Adapter(HubInstance hub) => (ClusterAdapter)hub.Services.GetRequiredService<SocketIOServer>().Sockets.Adapter;

    private static Task NodeSeen(HubInstance hub, string node)
    {
        var adapter = Adapter(hub);
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        adapter.NodesChanged += () =>
        {
            if (adapter.Nodes.Contains(node))
            {
                seen.TrySetResult();
            }
        };
        if (adapter.Nodes.Contains(node))
        {
            seen.TrySetResult();
        }

        return seen.Task;
    }

    private static async Task PostOk(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
