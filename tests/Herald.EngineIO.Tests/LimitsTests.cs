using System.Net;
using System.Text.Json;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

/// <summary>Admission limits: each is hit and answers a clear Engine.IO error; a freed slot admits again.</summary>
public class LimitsTests
{
    [Fact]
    public async Task MaxConnections_RefusesWith503_UntilASessionEnds()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxConnections = 2);
        await using var a = await host.ConnectPollingAsync();
        await using var b = await host.ConnectWebSocketAsync();

        await AssertRefusedAsync(host, HttpStatusCode.ServiceUnavailable, "Too many connections");
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => host.ConnectWebSocketAsync());

        // The client closes its session: the slot is free again.
        using (await a.PostAsync("1").DefaultTimeout())
        {
        }

        await host.WaitForSessionCountAsync(1);
        await using var c = await host.ConnectPollingAsync();
        Assert.Equal(2, host.Server.SessionCount);
    }

    [Fact]
    public async Task MaxConnectionsPerIp_RefusesTheSameAddress()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxConnectionsPerIp = 1);
        await using var a = await host.ConnectWebSocketAsync();
        await AssertRefusedAsync(host, HttpStatusCode.ServiceUnavailable, "Too many connections from this address");

        await a.WebSocket!.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
        await host.WaitForSessionCountAsync(0);
        await using var b = await host.ConnectPollingAsync();
    }

    [Fact]
    public async Task HandshakeRate_RefusesWith429_ThenRefills()
    {
        var time = new ManualTimeProvider();
        await using var host = await EngineIOTestHost.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.HandshakeRateLimitPerIp = new EngineIORateLimit { Burst = 2, PermitsPerSecond = 1 };
        });
        await using var a = await host.ConnectPollingAsync();
        await using var b = await host.ConnectPollingAsync();
        await AssertRefusedAsync(host, HttpStatusCode.TooManyRequests, "Too many handshakes from this address");

        time.Advance(TimeSpan.FromSeconds(1.5));
        await using var c = await host.ConnectPollingAsync();
        await AssertRefusedAsync(host, HttpStatusCode.TooManyRequests, "Too many handshakes from this address");
        Assert.Equal(3, host.Server.SessionCount);
    }

    [Fact]
    public void InvalidLimits_AreRejected()
    {
        var handler = new RecordingHandler();
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { MaxConnections = 0 }, handler));
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { MaxConnectionsPerIp = 0 }, handler));
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { MaxOutboundBytes = 0 }, handler));
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { HandshakeRateLimitPerIp = new() { Burst = 0 } }, handler));
    }

    [Fact]
    public async Task SessionIds_Are120RandomBits()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 50; i++)
        {
            await using var client = await host.ConnectPollingAsync();
            Assert.Matches("^[A-Za-z0-9_-]{20}$", client.Sid);
            Assert.Equal(15, System.Buffers.Text.Base64Url.DecodeFromChars(client.Sid).Length);
            Assert.True(ids.Add(client.Sid!));
        }
    }

    private static async Task AssertRefusedAsync(EngineIOTestHost host, HttpStatusCode status, string message)
    {
        var client = host.CreateClient();
        await using var _ = client;
        using var response = await client.Http.GetAsync(client.Url("polling", withSid: false)).DefaultTimeout();
        Assert.Equal(status, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement;
        Assert.Equal(3, body.GetProperty("code").GetInt32());
        Assert.Equal(message, body.GetProperty("message").GetString());
    }
}
