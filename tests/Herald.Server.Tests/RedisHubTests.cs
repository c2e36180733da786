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
    private const string Secret = "cluster-secret-for-tests-0123456789abcdef";

    [Fact]
    public async Task Two_hubs_on_one_redis_share_sessions_a_socket_reconnecting_to_the_other_hub_keeps_its_channels()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Secret=" + Secret, "--Herald:Redis:ConnectionString=" + redis.ConnectionString + ",name=hub-a");
        await using var b = await HubInstance.StartAsync("--Herald:NodeName=hub-b", "--Herald:Secret=" + Secret, "--Herald:Redis:ConnectionString=" + redis.ConnectionString + ",name=hub-b");
        await a.Services.GetRequiredService<IMessageBus>().WaitForStateAsync(MessageBusState.Connected);
        await b.Services.GetRequiredService<IMessageBus>().WaitForStateAsync(MessageBusState.Connected);

        // Bus, SSE history and sessions share one multiplexer per hub: one command and one subscriber connection.
        var multiplexer = a.Services.GetRequiredService<Herald.Redis.IHeraldRedisConnection>().Multiplexer!;
        var clients = (string)(await multiplexer.GetDatabase().ExecuteAsync("CLIENT", "LIST").DefaultTimeout())!;
        Assert.Equal(2, clients.Split('\n').Count(line => line.Contains(" name=hub-a ", StringComparison.Ordinal)));

        // The browser loads the page from hub-a and gets its signed herald.sid cookie there.
        var cookie = await SessionCookieAsync(a);
        var sessionId = cookie[..cookie.IndexOf('.', StringComparison.Ordinal)];

        // On hub-a, the browser's session joins two channels; then the tab goes away.
        await using (var tab = await CookieSocket.ConnectAsync(a.Uri, cookie))
        {
            var session = a.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[tab.Id].GetHeraldSession()!;
            Assert.Equal(sessionId, session.Id);
            await session.Channels.SubscribeAsync("disney", "pixar").DefaultTimeout();
        }

        // The same browser (same herald.sid cookie) reconnects to hub-b, which shares Herald:Secret: the signature holds
        // there, its session has its channels...
        await using var again = await CookieSocket.ConnectAsync(b.Uri, cookie);
        var there = b.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[again.Id].GetHeraldSession()!;
        Assert.Equal(sessionId, there.Id);
        Assert.Equal(["disney", "pixar"], (await there.Channels.ListAsync().AsTask().DefaultTimeout()).Order());

        // ...and the socket is in them: a publication to a channel reaches it.
        using var response = await b.Http.SendAsync(b.Post("/api/channel", """{"channels":["pixar"],"event":"newFilm","args":["Up"]}""")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""2["newFilm","Up","pixar"]""", await again.ReceiveAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Without_a_shared_secret_a_cookie_from_another_hub_gets_a_new_session_and_the_hub_warns_at_start()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        var logs = new TestLogSink();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        await using var b = await HubInstance.StartAsync(logs, "--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        Assert.Contains(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("Herald:Secret", StringComparison.Ordinal));

        var cookie = await SessionCookieAsync(a);
        await using var socket = await CookieSocket.ConnectAsync(b.Uri, cookie);
        var session = b.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[socket.Id].GetHeraldSession()!;
        Assert.NotEqual(cookie[..cookie.IndexOf('.', StringComparison.Ordinal)], session.Id); // hub-b cannot check hub-a's signature
    }

    /// <summary>The <c>herald.sid</c> value a page load from <paramref name="hub"/> sets.</summary>
    private static async Task<string> SessionCookieAsync(HubInstance hub)
    {
        using var page = await hub.Http.GetAsync("/").DefaultTimeout();
        var setCookie = page.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("herald.sid=", StringComparison.Ordinal));
        return setCookie["herald.sid=".Length..setCookie.IndexOf(';', StringComparison.Ordinal)];
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

        using (var readyRequest = new HttpRequestMessage(HttpMethod.Get, "/readyz"))
        using (var ready = await hub.Http.SendAsync(WithKey(readyRequest)).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("\"busState\":\"Connecting\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The API cannot carry a command before Redis was ever reached: 503 (after waiting a connection attempt).
        var refused = await PostAsync(hub, "/api/emit", """{"event":"too-early"}""", HttpStatusCode.ServiceUnavailable);
        Assert.Contains("\"unavailable: ", refused, StringComparison.Ordinal);

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

    [Fact]
    public async Task During_a_redis_outage_api_emits_reach_the_publishing_hubs_clients_at_once_and_the_other_hubs_after()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        await using var b = await HubInstance.StartAsync("--Herald:NodeName=hub-b", "--Herald:Redis:ConnectionString=" + redis.ConnectionString);
        var busA = a.Services.GetRequiredService<IMessageBus>();
        var busB = b.Services.GetRequiredService<IMessageBus>();
        await busA.WaitForStateAsync(MessageBusState.Connected);
        await busB.WaitForStateAsync(MessageBusState.Connected);
        await ((ClusterAdapter)a.Services.GetRequiredService<SocketIOServer>().Sockets.Adapter).Ready.DefaultTimeout();
        await ((ClusterAdapter)b.Services.GetRequiredService<SocketIOServer>().Sockets.Adapter).Ready.DefaultTimeout();
        await using var onA = await SocketIOTestClient.ConnectWebSocketAsync(a.Uri).DefaultTimeout();
        await onA.ConnectAsync().DefaultTimeout();
        await using var onB = await SocketIOTestClient.ConnectWebSocketAsync(b.Uri).DefaultTimeout();
        await onB.ConnectAsync().DefaultTimeout();
        await PostAsync(a, "/api/emit", """{"event":"before"}""", HttpStatusCode.OK);
        Assert.Equal("""2["before"]""", await onA.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["before"]""", await onB.ReceiveTextAsync().DefaultTimeout());

        var down = busA.WaitForStateAsync(MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down;

        // Redis is down: hub-a's own client gets the emit at once (the outage buffer keeps it for hub-b).
        await PostAsync(a, "/api/emit", """{"event":"during"}""", HttpStatusCode.OK);
        Assert.Equal("""2["during"]""", await onA.ReceiveTextAsync().DefaultTimeout());
        Assert.False(redis.IsRunning);

        var upA = busA.WaitForStateAsync(MessageBusState.Connected, TimeSpan.FromSeconds(30));
        var upB = busB.WaitForStateAsync(MessageBusState.Connected, TimeSpan.FromSeconds(30));
        await redis.RestartAsync().DefaultTimeout();
        await Task.WhenAll(upA, upB);
        await PostAsync(a, "/api/emit", """{"event":"after"}""", HttpStatusCode.OK);

        // hub-b's client: what was buffered, then the rest; hub-a's client: no second copy of "during".
        Assert.Equal("""2["during"]""", await onB.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["after"]""", await onB.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["after"]""", await onA.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task During_a_redis_outage_with_the_outage_buffer_off_the_api_answers_503()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var a = await HubInstance.StartAsync("--Herald:NodeName=hub-a", "--Herald:Redis:ConnectionString=" + redis.ConnectionString, "--Herald:Redis:OutageBufferSize=0");
        var bus = a.Services.GetRequiredService<IMessageBus>();
        await bus.WaitForStateAsync(MessageBusState.Connected);
        await PostAsync(a, "/api/emit", """{"event":"before"}""", HttpStatusCode.OK);
        var down = bus.WaitForStateAsync(MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down;
        var body = await PostAsync(a, "/api/emit", """{"event":"during"}""", HttpStatusCode.ServiceUnavailable);
        Assert.Contains("\"unavailable: ", body, StringComparison.Ordinal);
    }

    private static async Task<string> PostAsync(HubInstance hub, string path, string json, HttpStatusCode expected)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>Adds the API key: <c>/readyz</c> details (bus state, node) are for key holders only.</summary>
    private static HttpRequestMessage WithKey(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
        return request;
    }

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
