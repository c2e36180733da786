using System.Net;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.EngineIO.Tests;

public class MapEngineIOTests
{
    [Fact]
    public async Task MapEngineIO_ServesThePath_WithAddEngineIODefaultsThenConfigure()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddEngineIO(o =>
        {
            o.PingInterval = TimeSpan.FromSeconds(7);
            o.MaxHttpBufferSize = 1234;
        });
        await using var app = builder.Build();
        var handler = new RecordingHandler();
        app.MapEngineIO("/socket.io/", handler, o => o.MaxHttpBufferSize = 4321);
        await app.StartAsync().DefaultTimeout();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        await using (var client = await EngineIOTestClient.ConnectPollingAsync(address, "/socket.io/"))
        {
            Assert.Equal(7000, client.Handshake.GetProperty("pingInterval").GetInt32());
            Assert.Equal(4321, client.Handshake.GetProperty("maxPayload").GetInt32());
            using var post = await client.PostAsync("4hi");
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            Assert.Equal(["4hi"], (await client.PollAsync()).Select(p => p.ToString()));

            await using var ws = await EngineIOTestClient.ConnectWebSocketAsync(address, "/socket.io/");
            await ws.SendTextAsync("4ws");
            Assert.Equal("4ws", (await ws.ReceiveAsync())?.Text);
        }

        using var http = new HttpClient { BaseAddress = address };
        using var other = await http.GetAsync("/engine.io/?EIO=4&transport=polling").DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        // Stopping the application closes the sessions.
        await using var open = await EngineIOTestClient.ConnectPollingAsync(address, "/socket.io/");
        await app.StopAsync().DefaultTimeout();
        Assert.Equal("server shutting down", await handler.WaitClosedAsync(open.Sid!));
    }
}
