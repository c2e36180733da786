using System.Net.WebSockets;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class WebSocketTests
{
    [Fact]
    public async Task EchoesTextAndBinary()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectWebSocketAsync();

        await client.SendTextAsync("4hello");
        Assert.Equal("4hello", (await client.ReceiveAsync())?.Text);

        await client.SendBinaryAsync([1, 2, 3, 4]);
        var binary = await client.ReceiveAsync();
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, binary?.Binary);

        await client.SendTextAsync("4");
        Assert.Equal("4", (await client.ReceiveAsync())?.Text);

        var message = await host.Handler.NextMessageAsync();
        Assert.Equal("hello"u8.ToArray(), message.Data);
    }

    [Fact]
    public async Task LargeMessage_UnderTheLimit_IsReassembled()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.MaxHttpBufferSize = 100_000);
        await using var client = await host.ConnectWebSocketAsync();
        var text = "4" + new string('x', 99_999);
        await client.SendTextAsync(text);
        Assert.Equal(text, (await client.ReceiveAsync())?.Text);
    }

    [Fact]
    public async Task ServerClose_FlushesQueue_ThenClosesWebSocket()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        host.Handler.Echo = false;
        await using var client = await host.ConnectWebSocketAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        connection.Send([EngineMessage.FromText("a"u8), EngineMessage.FromText("b"u8)]);
        connection.Close();

        var received = await client.ReceiveUntilClosedAsync();
        Assert.Equal(["4a", "4b"], received.Select(p => p.ToString()));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal("forced close", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task ClientClosePacket_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectWebSocketAsync();
        await client.SendTextAsync("1");
        Assert.Empty(await client.ReceiveUntilClosedAsync());
        Assert.Equal("transport close", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task ClientDisconnect_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        var client = await host.ConnectWebSocketAsync();
        var sid = client.Sid!;
        await client.DisposeAsync();
        Assert.Equal("transport close", await host.Handler.WaitClosedAsync(sid));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task IdleSession_IsWritable()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        host.Handler.Echo = false;
        await using var client = await host.ConnectWebSocketAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);
        await EngineIOTestHost.WaitUntilAsync(() => connection.IsWritable, "an idle writer");
        Assert.True(connection.Send(EngineMessage.FromText("x"u8)));
        Assert.Equal("4x", (await client.ReceiveAsync())?.Text);
    }

    [Fact]
    public async Task ServerDispose_ClosesSessions_WithShuttingDown()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var ws = await host.ConnectWebSocketAsync();
        await using var polling = await host.ConnectPollingAsync();

        await host.Server.DisposeAsync();
        Assert.Equal("server shutting down", await host.Handler.WaitClosedAsync(ws.Sid!));
        Assert.Equal("server shutting down", await host.Handler.WaitClosedAsync(polling.Sid!));
        Assert.Empty(await ws.ReceiveUntilClosedAsync());
        Assert.Equal(0, host.Server.SessionCount);
    }
}
