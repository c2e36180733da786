using System.Net.Http.Json;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Messaging.Emitters;
using Herald.Testing;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// Issue 7's fault "a peer link cut and restored", with the other end in another process: the standalone hub, killed
/// with SIGKILL and started again on the same port. This process keeps one link to it.
/// </summary>
public sealed class PeerLinkProcessTests
{
    [Fact]
    public async Task HubKilledAndRestartedOnTheSamePort_TheLinkReconnects_Resubscribes_AndBothDirectionsResume()
    {
        var hub = await HubProcess.StartAsync("hub-1");
        try
        {
            await using var node = await PeerNode.StartAsync("test-worker");
            var link = await node.Channel.ConnectAsync("hub-1", hub.ChannelUri, HubProcess.ChannelKey).DefaultTimeout();
            var received = new Collector<string>();
            await node.Channel.Subscribe<string>("greeting", received.Add).Ready.DefaultTimeout();
            await using var ws = new SocketIOEmitter(node.Bus);
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Add("X-Herald-Key", HubProcess.ApiKey);

            // Both directions over the link: the hub's publish API reaches this process's subscription; this process's
            // Socket.IO emit reaches a client of the hub.
            await PublishOnHubAsync(http, hub, "before");
            await received.WaitForAsync(m => m == "before").DefaultTimeout();
            await AssertEmitReachesAHubClientAsync(ws, hub, "before");

            var down = WaitForState(link, MessageBusState.Disconnected);
            await hub.KillAsync();
            await down.DefaultTimeout();

            // A subscription made while the link is down is sent with the others when it comes back.
            await node.Channel.Subscribe<string>("late", m => received.Add("late:" + m)).Ready.DefaultTimeout();

            var up = WaitForState(link, MessageBusState.Connected);
            var port = hub.Port;
            await hub.DisposeAsync();
            hub = await HubProcess.StartAsync("hub-1", port);
            Assert.Equal(port, hub.Port);
            await up.DefaultTimeout(); // Connected = every subscription confirmed by the new process
            Assert.Equal(2, link.ConnectionCount);

            await PublishOnHubAsync(http, hub, "after");
            await PublishOnHubAsync(http, hub, "also", topic: "late");
            await received.WaitForAsync(m => m == "late:also").DefaultTimeout();
            Assert.Equal(["before", "after", "late:also"], received.Items);
            await AssertEmitReachesAHubClientAsync(ws, hub, "after");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException("Hub output:\n" + hub.Output, e);
        }
        finally
        {
            await hub.DisposeAsync();
        }
    }

    private static async Task PublishOnHubAsync(HttpClient http, HubProcess hub, string data, string topic = "greeting")
    {
        using var response = await http.PostAsJsonAsync(new Uri(hub.HttpBase, "/api/publish"), new { topic, data }).DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, $"publish: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().DefaultTimeout()}");
    }

    private static async Task AssertEmitReachesAHubClientAsync(SocketIOEmitter ws, HubProcess hub, string text)
    {
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.HttpBase).DefaultTimeout();
        await client.ConnectAsync().DefaultTimeout();
        await ws.EmitAsync("news", text).DefaultTimeout();
        Assert.Equal($"2[\"news\",\"{text}\"]", await client.ReceiveTextAsync().DefaultTimeout());
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
}
