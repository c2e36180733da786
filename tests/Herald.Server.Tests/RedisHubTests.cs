using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Herald.Messaging;
using Herald.Sessions;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

/// <summary>The hub with <c>Herald:Redis:ConnectionString</c> set, as users run it: shared sessions, Redis down at start.</summary>
public class RedisHubTests
{
    [Fact]
    public async Task Two_hubs_on_one_redis_share_sessions_a_socket_reconnecting_to_the_other_hub_keeps_its_channels()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        await using var b = await HubInstance.StartAsync("--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        await a.Services.GetRequiredService<IMessageBus>().WaitForStateAsync(MessageBusState.Connected);
        await b.Services.GetRequiredService<IMessageBus>().WaitForStateAsync(MessageBusState.Connected);
        var cookie = Base64Url(RandomNumberGenerator.GetBytes(16));

        // On hub-a, the browser's session joins two channels; then the tab goes away.
        await using (var tab = await CookieSocket.ConnectAsync(a.Uri, cookie))
        {
            var session = a.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[tab.Id].GetHeraldSession()!;
            Assert.Equal(cookie, session.Id);
            await session.Channels.SubscribeAsync("disney", "pixar").DefaultTimeout();
        }

        // The same browser (same herald.sid cookie) reconnects to hub-b: its session has its channels there...
        await using var again = await CookieSocket.ConnectAsync(b.Uri, cookie);
        var there = b.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[again.Id].GetHeraldSession()!;
        Assert.Equal(["disney", "pixar"], (await there.Channels.ListAsync().AsTask().DefaultTimeout()).Order());

        // ...and the socket is in them: a publication to a channel reaches it.
        using var response = await b.Http.SendAsync(b.Post("/api/channel", """{"channels":["pixar"],"event":"newFilm","args":["Up"]}""")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""2["newFilm","Up","pixar"]""", await again.ReceiveAsync().DefaultTimeout());
    }

    [Fact]
    public async Task A_hub_started_with_redis_down_serves_healthz_answers_readyz_503_and_is_ready_once_redis_is_up()
    {
        var port = RedisServerFixture.GetFreePort();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var hub = await HubInstance.StartAsync("--Herald:NodeName=hub-early", $"--Herald:Redis:ConnectionString=127.0.0.1:{port}");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8), $"the hub took {started.Elapsed} to listen");

        using (var health = await hub.Http.GetAsync("/healthz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using (var ready = await hub.Http.GetAsync("/readyz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("\"busState\":\"Connecting\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A local client is served meanwhile.
        await using (var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout())
        {
            await client.ConnectAsync().DefaultTimeout();
        }

        var bus = hub.Services.GetRequiredService<IMessageBus>();
        var connected = bus.WaitForStateAsync(MessageBusState.Connected, TimeSpan.FromSeconds(30));
        await using var redis = await RedisServerFixture.StartOnPortAsync(port).DefaultTimeout();
        await connected;
        using (var ready = await hub.Http.GetAsync("/readyz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // And the subscriptions made while Redis was down are in place: a foreign PUBLISH reaches a client.
        await ((ClusterAdapter)hub.Services.GetRequiredService<SocketIOServer>().Sockets.Adapter).Ready.DefaultTimeout();
        await using var late = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await late.ConnectAsync().DefaultTimeout();
        await bus.PublishAsync("sio:/", Encoding.UTF8.GetBytes("""{"source":"other","kind":"broadcast","packet":{"data":["from-redis"]}}""")).DefaultTimeout();
        Assert.Equal("""2["from-redis"]""", await late.ReceiveTextAsync().DefaultTimeout());
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A Socket.IO client over a raw WebSocket that sends a <c>herald.sid</c> cookie, as a browser would.</summary>
    private sealed class CookieSocket : IAsyncDisposable
    {
        private readonly ClientWebSocket _ws = new();

        public string Id { get; private set; } = "";

        public static async Task<CookieSocket> ConnectAsync(Uri hub, string cookie)
        {
            var socket = new CookieSocket();
            socket._ws.Options.SetRequestHeader("Cookie", "herald.sid=" + cookie);
            await socket._ws.ConnectAsync(new Uri($"ws://{hub.Authority}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).DefaultTimeout();
            Assert.StartsWith("0{", await socket.ReceiveAsync().DefaultTimeout(), StringComparison.Ordinal);
            await socket._ws.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
            var connect = await socket.ReceiveAsync().DefaultTimeout();
            Assert.StartsWith("0{", connect, StringComparison.Ordinal); // "40{...}", the Engine.IO message prefix stripped
            socket.Id = System.Text.Json.JsonDocument.Parse(connect[1..]).RootElement.GetProperty("sid").GetString()!;
            return socket;
        }

        /// <summary>The next Socket.IO packet, answering Engine.IO pings on the way.</summary>
        public async Task<string> ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await _ws.ReceiveAsync(buffer, CancellationToken.None);
                var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                if (text == "2")
                {
                    await _ws.SendAsync("3"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                    continue;
                }

                return text.Length > 0 && text[0] == '4' ? text[1..] : text;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_ws.State == WebSocketState.Open)
            {
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
            }

            _ws.Dispose();
        }
    }
}

internal static class RedisHubBusExtensions
{
    public static Task WaitForStateAsync(this IMessageBus bus, MessageBusState state, TimeSpan? timeout = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bus.StateChanged += (_, e) =>
        {
            if (e.Current == state)
            {
                reached.TrySetResult();
            }
        };
        if (bus.State == state)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(timeout ?? TaskTimeoutExtensions.DefaultTimeoutSpan);
    }
}
