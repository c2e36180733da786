using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class HandshakeTests
{
    [Fact]
    public async Task PollingHandshake_SendsOpenPacket_AndOpensSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();

        var handshake = client.Handshake;
        Assert.Matches(new Regex("^[A-Za-z0-9_-]{20}$"), client.Sid);
        Assert.Equal(["websocket"], handshake.GetProperty("upgrades").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(25000, handshake.GetProperty("pingInterval").GetInt32());
        Assert.Equal(20000, handshake.GetProperty("pingTimeout").GetInt32());
        Assert.Equal(1000000, handshake.GetProperty("maxPayload").GetInt32());
        Assert.Equal(5, handshake.EnumerateObject().Count());

        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);
        Assert.Equal("polling", connection.TransportName);
        Assert.True(connection.IsConnected);
        Assert.Equal(1, host.Server.SessionCount);
        Assert.True(host.Server.TryGetConnection(client.Sid!, out var found));
        Assert.Same(connection, found);
    }

    [Fact]
    public async Task WebSocketHandshake_AdvertisesNoUpgrade()
    {
        await using var host = await EngineIOTestHost.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(1234);
            o.MaxHttpBufferSize = 5000;
        });
        await using var client = await host.ConnectWebSocketAsync();

        Assert.Empty(client.Handshake.GetProperty("upgrades").EnumerateArray());
        Assert.Equal(1234, client.Handshake.GetProperty("pingInterval").GetInt32());
        Assert.Equal(5000, client.Handshake.GetProperty("maxPayload").GetInt32());
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);
        Assert.Equal("websocket", connection.TransportName);
    }

    [Fact]
    public async Task SessionIdsAreUnique()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            await using var client = await host.ConnectPollingAsync();
            Assert.True(ids.Add(client.Sid!));
        }

        Assert.Equal(20, host.Server.SessionCount);
    }

    [Fact]
    public async Task RequestInfo_CapturesQueryAndHeaders()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var client = host.CreateClient().Http;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/engine.io/?EIO=4&transport=polling&token=abc");
        request.Headers.Add("X-Custom", "value");
        using var response = await client.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();
        var sid = JsonDocument.Parse(body[1..]).RootElement.GetProperty("sid").GetString()!;

        var connection = await host.Handler.WaitOpenedAsync(sid);
        Assert.Equal("abc", connection.Request.Query["token"]);
        Assert.Equal("value", connection.Request.Headers["X-Custom"]);
        Assert.Equal(IPAddress.Loopback, connection.Request.RemoteAddress);
        Assert.StartsWith("/engine.io/?EIO=4", connection.Request.Url);
    }

    [Fact]
    public async Task OnlyPollingEnabled_AdvertisesNoUpgrade_AndRejectsWebSocket()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.Transports = ["polling"]);
        await using var client = await host.ConnectPollingAsync();
        Assert.Empty(client.Handshake.GetProperty("upgrades").EnumerateArray());

        using var http = host.CreateClient().Http;
        using var response = await http.GetAsync("/engine.io/?EIO=4&transport=websocket").DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"code\":0,\"message\":\"Transport unknown\"}", await response.Content.ReadAsStringAsync());
    }
}
