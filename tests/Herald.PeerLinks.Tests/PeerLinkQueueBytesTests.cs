using System.Net.WebSockets;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.PeerLinks;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.PeerLinks.Tests;

/// <summary>
/// Security audit (issue 13), unbounded state: a linked node's send queue is bounded in bytes, not only in frames, so
/// a node that stops reading cannot make this one hold MaxQueuedFrames large frames (10,000 × 16 MiB).
/// </summary>
public sealed class PeerLinkQueueBytesTests
{
    [Fact]
    public async Task A_linked_node_that_stops_reading_is_disconnected_once_its_queue_exceeds_MaxQueuedBytes()
    {
        // Default options: MaxQueuedFrames 10,000, MaxQueuedBytes 32 MiB.
        await using var node = await PeerNode.StartAsync("rpc-server-1");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkHeaders.Key, PeerNode.Key);
        await socket.ConnectAsync(node.ChannelUri, CancellationToken.None).DefaultTimeout();
        var buffer = new byte[64 * 1024];
        var welcome = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        Assert.Contains("welcome", Encoding.UTF8.GetString(buffer, 0, welcome.Count), StringComparison.Ordinal);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"subscribe","id":1,"channel":"big"}"""), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
        var subscribed = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        Assert.Contains("subscribed", Encoding.UTF8.GetString(buffer, 0, subscribed.Count), StringComparison.Ordinal);

        // 800 frames of 100 KB (80 MB), far under the 10,000-frame bound: only the byte bound can stop them. The peer
        // reads nothing meanwhile, so once the kernel's socket buffers (a few MB) are full every frame stays queued.
        var bus = node.Services.GetRequiredService<IMessageBus>();
        var payload = new byte[100_000];
        for (var i = 0; i < 800; i++)
        {
            await bus.PublishAsync("big", payload).DefaultTimeout();
        }

        await node.Logs.WaitForAsync(e => e.Message.Contains("send queue", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("cannot keep up", StringComparison.OrdinalIgnoreCase)).DefaultTimeout();
        // Drain what was sent before: the connection then ends with the 1008 close frame (the node drops what is queued,
        // finishes the frame being written and closes; issue 15: it used to reset the connection instead).
        while (true)
        {
            var r = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            if (r.MessageType == WebSocketMessageType.Close)
            {
                Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
                break;
            }
        }
    }
}

/// <summary>Security audit (issue 13): a refused link attempt leaves an audit line without the key presented.</summary>
public sealed class PeerLinkAuditTests
{
    [Fact]
    public async Task A_wrong_key_is_refused_with_an_audit_line_that_does_not_hold_it()
    {
        await using var node = await PeerNode.StartAsync("rpc-server-1");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, node.HttpBase + "/herald/channel");
        request.Headers.TryAddWithoutValidation(PeerLinkHeaders.Key, "guessed-SECRET-key");
        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var line = await node.Logs.WaitForAsync(e => e.Category == "Herald.Audit").DefaultTimeout();
        Assert.Contains("127.0.0.1", line.Message, StringComparison.Ordinal);
        Assert.Contains("wrong key", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(node.Logs.Entries, e => e.Message.Contains("SECRET", StringComparison.Ordinal));
    }
}
