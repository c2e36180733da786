using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class BadInputTests
{
    [Theory]
    [InlineData("/engine.io/?EIO=4&transport=abc", 0, "Transport unknown")]
    [InlineData("/engine.io/?EIO=4", 0, "Transport unknown")]
    [InlineData("/engine.io/?EIO=3&transport=polling", 5, "Unsupported protocol version")]
    [InlineData("/engine.io/?transport=polling", 5, "Unsupported protocol version")]
    [InlineData("/engine.io/?EIO=abc&transport=polling", 5, "Unsupported protocol version")]
    [InlineData("/engine.io/?EIO=4&transport=polling&sid=unknown", 1, "Session ID unknown")]
    [InlineData("/engine.io/?EIO=4&transport=websocket", 3, "Bad request")]
    public async Task BadGet_Answers400WithCode(string url, int code, string message)
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var http = host.CreateClient().Http;
        using var response = await http.GetAsync(url).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"{{\"code\":{code},\"message\":\"{message}\"}}", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    public async Task HandshakeWithOtherMethod_IsBadHandshakeMethod(string method)
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var http = host.CreateClient().Http;
        using var request = new HttpRequestMessage(new HttpMethod(method), "/engine.io/?EIO=4&transport=polling") { Content = new StringContent("4x") };
        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"code\":2,\"message\":\"Bad handshake method\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task WebSocketWithBadParameters_IsRefused()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        foreach (var query in new[] { "transport=websocket", "EIO=3&transport=websocket", "EIO=4", "EIO=4&transport=websocket&sid=nope" })
        {
            using var ws = new ClientWebSocket();
            var uri = new Uri($"ws://{host.BaseUri.Authority}/engine.io/?{query}");
            await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(uri, CancellationToken.None).DefaultTimeout());
        }

        Assert.Equal(0, host.Server.SessionCount);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("9x")]
    [InlineData("")]
    [InlineData("4a\u001e")]
    [InlineData("b!!!!")]
    public async Task MalformedPollingPayload_Answers400_AndClosesWithParseError(string payload)
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        using (var post = await client.PostAsync(payload))
        {
            Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        }

        Assert.Equal("parse error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
        using var poll = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, poll.StatusCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("7")]
    public async Task MalformedWebSocketPacket_ClosesWithParseError(string packet)
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectWebSocketAsync();
        await client.SendTextAsync(packet);
        Assert.Empty(await client.ReceiveUntilClosedAsync());
        Assert.Equal("parse error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task DuplicateGet_Answers400_ClosesSession_FirstGetGetsClose()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();

        var first = client.GetAsync();
        await host.WaitForPendingPollAsync(client.Sid!);
        using (var second = await client.GetAsync().DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        }

        using (var firstResponse = await first.DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
            Assert.Equal("1", await firstResponse.Content.ReadAsStringAsync());
        }

        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task OversizePost_Answers413()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxHttpBufferSize = 100);
        await using var client = await host.ConnectPollingAsync();
        using (var post = await client.PostAsync("4" + new string('x', 200)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, post.StatusCode);
        }

        // Chunked (no Content-Length): the limit holds while reading.
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("4" + new string('y', 500))));
        using var request = new HttpRequestMessage(HttpMethod.Post, client.Url("polling")) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using (var chunked = await client.Http.SendAsync(request).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        }

        Assert.Empty(host.Handler.Messages.Reader.TryPeek(out var m) ? [m] : Array.Empty<object>());
        using (var ok = await client.PostAsync("4small"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
    }

    [Fact]
    public async Task OversizeWebSocketMessage_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxHttpBufferSize = 1000);
        await using var client = await host.ConnectWebSocketAsync();
        await client.SendTextAsync("4" + new string('x', 5000));
        Assert.Empty(await client.ReceiveUntilClosedAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.CloseStatus);
        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task GarbageOnTheWebSocket_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, host.BaseUri.Port).DefaultTimeout();
        var stream = tcp.GetStream();
        var handshake = "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
                        $"Host: {host.BaseUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake)).DefaultTimeout();

        // The 101 response and the open frame.
        var buffer = new byte[4096];
        var received = new StringBuilder();
        while (!received.ToString().Contains("\"maxPayload\""))
        {
            var n = await stream.ReadAsync(buffer).AsTask().DefaultTimeout();
            Assert.NotEqual(0, n);
            received.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }

        Assert.StartsWith("HTTP/1.1 101", received.ToString());
        Assert.Equal(1, host.Server.SessionCount);

        // Not a WebSocket frame: reserved bits, a bogus opcode and an impossible length (enough bytes for any header).
        await stream.WriteAsync(Enumerable.Repeat((byte)0xFF, 32).ToArray()).DefaultTimeout();
        while (await stream.ReadAsync(buffer).AsTask().DefaultTimeout() > 0)
        {
        }

        await host.WaitForSessionCountAsync(0);
    }

    [Fact]
    public async Task ThrowingListener_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        host.AllowErrorLogs = true;
        host.Handler.OnMessageAction = (_, _, _) => throw new InvalidOperationException("boom");
        await using var client = await host.ConnectWebSocketAsync();
        await client.SendTextAsync("4x");
        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }
}
