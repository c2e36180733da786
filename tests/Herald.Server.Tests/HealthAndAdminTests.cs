using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Messaging;
using Herald.Server.Metrics;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

public class HealthAndAdminTests
{
    [Fact]
    public async Task Healthz_and_readyz_answer_in_memory()
    {
        await using var hub = await HubInstance.StartAsync();
        using var live = await hub.Http.GetAsync("/healthz").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await hub.Http.GetAsync("/readyz").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("""{"status":"ready"}""", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_follows_the_redis_connection()
    {
        await using var redis = await RedisServerFixture.StartAsync().DefaultTimeout();
        await using var hub = await HubInstance.StartAsync("--Herald:Redis:ConnectionString=" + redis.ConnectionString + ",connectTimeout=500", "--Herald:NodeName=hub-ready");
        await WaitForStatusAsync(hub, HttpStatusCode.OK);

        await redis.StopAsync().DefaultTimeout();
        await WaitForStatusAsync(hub, HttpStatusCode.ServiceUnavailable);

        await redis.RestartAsync().DefaultTimeout(); // and back: the bus reconnects, the node is ready again
        await WaitForStatusAsync(hub, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Dashboard_api_lists_sockets_with_handshake_and_acts_on_them()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Admin:Username=admin", "--Herald:Admin:Password=correct-horse-battery", "--Herald:NodeName=hub-a", "--Herald:Demo:Enabled=true");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync("/chat", """{"name":"alice"}""").DefaultTimeout();
        await client.SendAsync("""2/chat,1["join","lobby"]""").DefaultTimeout();
        Assert.StartsWith("2/chat,", await client.ReceiveTextAsync().DefaultTimeout()); // "system: alice joined lobby"
        Assert.StartsWith("3/chat,1", await client.ReceiveTextAsync().DefaultTimeout()); // the join ack

        using var anonymous = await hub.Http.GetAsync("/admin/api/sockets").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:correct-horse-battery")));
        var sockets = await GetJsonAsync(hub, "/admin/api/sockets", basic);
        var socket = Assert.Single(sockets.EnumerateArray(), s => s.GetProperty("id").GetString() == sid);
        Assert.Equal("/chat", socket.GetProperty("namespace").GetString());
        Assert.Equal(["chat:lobby"], socket.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("[redacted]", socket.GetProperty("handshake").GetProperty("auth").GetProperty("name").GetString()); // Herald:Admin:ShowHandshakeSecrets
        Assert.Equal("alice", socket.GetProperty("data").GetProperty("name").GetString());

        var namespaces = await GetJsonAsync(hub, "/admin/api/namespaces", basic);
        var chat = Assert.Single(namespaces.EnumerateArray(), n => n.GetProperty("name").GetString() == "/chat");
        Assert.Equal(1, Assert.Single(chat.GetProperty("rooms").EnumerateArray()).GetProperty("size").GetInt32());

        var overview = await GetJsonAsync(hub, "/admin/api/overview", basic);
        Assert.Equal("hub-a", overview.GetProperty("node").GetString());
        Assert.Equal(1, overview.GetProperty("servers").GetInt32());

        using var leave = new HttpRequestMessage(HttpMethod.Post, "/admin/api/sockets/leave") { Content = new StringContent($$"""{"id":"{{sid}}","namespace":"/chat","room":"chat:lobby"}""", Encoding.UTF8, "application/json") };
        leave.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key); // an API key works as well
        using (var r = await hub.Http.SendAsync(leave).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var after = await GetJsonAsync(hub, "/admin/api/sockets", basic);
        Assert.Empty(Assert.Single(after.EnumerateArray(), s => s.GetProperty("id").GetString() == sid).GetProperty("rooms").EnumerateArray());

        using var disconnect = new HttpRequestMessage(HttpMethod.Post, "/admin/api/sockets/disconnect") { Content = new StringContent($$"""{"id":"{{sid}}","namespace":"/chat"}""", Encoding.UTF8, "application/json") };
        disconnect.Headers.Authorization = basic;
        using (var r = await hub.Http.SendAsync(disconnect).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Equal("1/chat,", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Metrics_count_what_flows()
    {
        await using var hub = await HubInstance.StartAsync();
        var metrics = hub.Services.GetRequiredService<HubMetricsCollector>();
        var before = metrics.Snapshot();
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();
        using (var r = await hub.Http.SendAsync(hub.Post("/api/emit", $$"""{"event":"tick","rooms":["{{sid}}"]}""")).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        await client.ReceiveTextAsync().DefaultTimeout();
        var after = metrics.Snapshot();
        static double Get(IReadOnlyDictionary<string, double> m, string k) => m.TryGetValue(k, out var v) ? v : 0;
        Assert.True(Get(after, "herald.socketio.packets.received") > Get(before, "herald.socketio.packets.received"));
        Assert.True(Get(after, "herald.socketio.packets.sent") >= Get(before, "herald.socketio.packets.sent") + 2); // connect answer + tick
        Assert.True(Get(after, "herald.messaging.bus.published") > Get(before, "herald.messaging.bus.published"));
        Assert.True(Get(after, "herald.socketio.connections{transport=websocket}") >= 1);
        Assert.True(Get(after, "herald.socketio.sockets") >= 1);
    }

    [Fact]
    public async Task The_openapi_description_lists_the_publish_commands()
    {
        await using var hub = await HubInstance.StartAsync();
        var doc = JsonDocument.Parse(await hub.Http.GetStringAsync("/openapi.json").DefaultTimeout()).RootElement;
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/emit", "/api/sse", "/api/sse-close", "/api/publish", "/api/disconnect", "/api/batch", "/healthz", "/readyz" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        Assert.True(doc.GetProperty("components").GetProperty("schemas").TryGetProperty("EmitRequest", out _));
    }

    private static async Task<JsonElement> GetJsonAsync(HubInstance hub, string path, AuthenticationHeaderValue auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        using var response = await hub.Http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Waits for the bus to reach <paramref name="state"/>, then checks /readyz answers <paramref name="expected"/>.</summary>
    private static async Task WaitForStatusAsync(HubInstance hub, HttpStatusCode expected)
    {
        var state = expected == HttpStatusCode.OK ? MessageBusState.Connected : MessageBusState.Disconnected;
        var bus = hub.Services.GetRequiredService<IMessageBus>();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, MessageBusStateChangedEventArgs e)
        {
            if (e.Current == state)
            {
                reached.TrySetResult();
            }
        }

        bus.StateChanged += OnChanged;
        try
        {
            if (bus.State == state)
            {
                reached.TrySetResult();
            }

            await reached.Task.DefaultTimeout();
        }
        finally
        {
            bus.StateChanged -= OnChanged;
        }

        using var response = await hub.Http.GetAsync("/readyz").DefaultTimeout();
        Assert.Equal(expected, response.StatusCode);
    }
}
