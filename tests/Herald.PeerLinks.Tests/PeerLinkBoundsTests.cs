using System.Net.WebSockets;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// Issue 15: the peer-link endpoint's bounds, live (a real node, a real WebSocket): a linked node whose send queue
/// overflows is closed with 1008 as documented (not reset), for the frame bound as for the byte bound, and a
/// subscription past MaxSubscriptions gets an error frame while the link stays up.
/// </summary>
public sealed class PeerLinkBoundsTests
{
    [Fact]
    public async Task A_linked_node_that_stops_reading_past_MaxQueuedFrames_is_closed_with_1008_once_it_reads_again()
    {
        // 100 frames at most; the 1,000 frames of 100 KB (100 MB) fill the kernel's socket buffers, then the queue.
        await using var node = await PeerNode.StartAsync("rpc-server-1", services: s => s.Configure<PeerLinkServerOptions>(o => o.MaxQueuedFrames = 100));
        using var socket = await ConnectAndSubscribeAsync(node, "big");
        var bus = node.Services.GetRequiredService<IMessageBus>();
        var payload = new byte[100_000];
        for (var i = 0; i < 1_000 && !Overflowed(node); i++)
        {
            await bus.PublishAsync("big", payload).DefaultTimeout();
        }

        await node.Logs.WaitForAsync(e => e.Message.Contains("send queue", StringComparison.OrdinalIgnoreCase)).DefaultTimeout();
        await AssertClosedWith1008Async(socket);
    }

    [Fact]
    public async Task A_linked_node_that_stops_reading_past_MaxQueuedBytes_is_closed_with_1008_once_it_reads_again()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1", services: s => s.Configure<PeerLinkServerOptions>(o => o.MaxQueuedBytes = 4_000_000));
        using var socket = await ConnectAndSubscribeAsync(node, "big");
        var bus = node.Services.GetRequiredService<IMessageBus>();
        var payload = new byte[100_000];
        for (var i = 0; i < 1_000 && !Overflowed(node); i++)
        {
            await bus.PublishAsync("big", payload).DefaultTimeout();
        }

        await node.Logs.WaitForAsync(e => e.Message.Contains("send queue", StringComparison.OrdinalIgnoreCase)).DefaultTimeout();
        await AssertClosedWith1008Async(socket);
    }

    [Fact]
    public async Task A_subscription_past_MaxSubscriptions_gets_an_error_frame_and_the_link_stays_up()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1", services: s => s.Configure<PeerLinkServerOptions>(o => o.MaxSubscriptions = 3));
        using var socket = await ConnectAndSubscribeAsync(node, "a");
        var buffer = new byte[64 * 1024];
        for (var i = 2; i <= 3; i++)
        {
            await SendTextAsync(socket, $$"""{"type":"subscribe","id":{{i}},"channel":"c{{i}}"}""");
            Assert.Contains("subscribed", await ReceiveTextAsync(socket, buffer), StringComparison.Ordinal);
        }

        await SendTextAsync(socket, """{"type":"subscribe","id":4,"channel":"c4"}""");
        var refused = await ReceiveTextAsync(socket, buffer);
        Assert.Contains("error", refused, StringComparison.Ordinal);
        Assert.Contains("more than 3 subscriptions", refused, StringComparison.Ordinal);

        // The three subscriptions still deliver; the refused one does not.
        var bus = node.Services.GetRequiredService<IMessageBus>();
        await bus.PublishAsync("c4", "nope"u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("c3", "yes"u8.ToArray()).DefaultTimeout();
        var delivered = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        Assert.Equal(WebSocketMessageType.Binary, delivered.MessageType);
        var frame = Encoding.UTF8.GetString(buffer, 0, delivered.Count);
        Assert.Contains("c3", frame, StringComparison.Ordinal);
        Assert.DoesNotContain("c4", frame, StringComparison.Ordinal);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    private static bool Overflowed(PeerNode node) =>
        node.Logs.Entries.Any(e => e.Message.Contains("send queue", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads what was sent before the overflow: the connection must end with a 1008 close frame, not a reset.</summary>
    private static async Task AssertClosedWith1008Async(ClientWebSocket socket)
    {
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var r = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            if (r.MessageType == WebSocketMessageType.Close)
            {
                Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
                Assert.Equal("send queue full", socket.CloseStatusDescription);
                return;
            }
        }
    }

    private static async Task<ClientWebSocket> ConnectAndSubscribeAsync(PeerNode node, string channel)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key);
        await socket.ConnectAsync(node.ChannelUri, CancellationToken.None).DefaultTimeout();
        var buffer = new byte[64 * 1024];
        Assert.Contains("welcome", await ReceiveTextAsync(socket, buffer), StringComparison.Ordinal);
        await SendTextAsync(socket, $$"""{"type":"subscribe","id":1,"channel":"{{channel}}"}""");
        Assert.Contains("subscribed", await ReceiveTextAsync(socket, buffer), StringComparison.Ordinal);
        return socket;
    }

    private static Task SendTextAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, byte[] buffer)
    {
        var r = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        return Encoding.UTF8.GetString(buffer, 0, r.Count);
    }
}
