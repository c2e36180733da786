using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Herald.Messaging;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

public class PublishApiTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789")]
    [InlineData("test-api-key-012345678")] // a prefix of the right key
    [InlineData("")]
    public async Task Without_the_right_key_the_api_answers_401(string? key)
    {
        await using var hub = await HubInstance.StartAsync();
        using var response = await hub.Http.SendAsync(hub.Post("/api/emit", """{"event":"x"}""", key)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var batch = await hub.Http.SendAsync(hub.Post("/api/batch", """{"commands":[]}""", key)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, batch.StatusCode);
    }

    [Fact]
    public async Task A_bearer_key_is_accepted_and_an_emit_reaches_a_real_socket_client()
    {
        await using var hub = await HubInstance.StartAsync();
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();

        using var request = hub.Post("/api/emit", $$"""{"event":"greeting","args":["Hello, World!",{"n":1}],"rooms":["{{sid}}"]}""", key: null);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HubInstance.Key);
        using var response = await hub.Http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""2["greeting","Hello, World!",{"n":1}]""", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Emit_to_a_room_of_a_namespace_skips_the_others_and_except()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Namespaces:0=/", "--Herald:Namespaces:1=/orders");
        await using var a = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await using var b = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sidA = await a.ConnectAsync("/orders").DefaultTimeout();
        var sidB = await b.ConnectAsync("/orders").DefaultTimeout();
        await Post(hub, "/api/sockets-join", $$"""{"namespace":"/orders","sockets":["{{sidA}}","{{sidB}}"],"rooms":["eu"]}""");
        await Post(hub, "/api/emit", $$"""{"namespace":"/orders","event":"update","args":[1],"rooms":["eu"],"except":["{{sidB}}"]}""");
        await Post(hub, "/api/emit", """{"namespace":"/orders","event":"update","args":[2],"rooms":["eu"]}""");
        Assert.Equal("""2/orders,["update",1]""", await a.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2/orders,["update",2]""", await a.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2/orders,["update",2]""", await b.ReceiveTextAsync().DefaultTimeout()); // b skipped the first

        using var refused = await hub.Http.SendAsync(hub.Post("/api/emit", """{"namespace":"/secret","event":"x"}""")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Herald:Namespaces", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_ends_the_socket()
    {
        await using var hub = await HubInstance.StartAsync();
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();
        await Post(hub, "/api/disconnect", $$"""{"sockets":["{{sid}}"]}""");
        Assert.Equal("1", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Sse_and_topic_commands_reach_sse_clients_and_subscribers()
    {
        await using var hub = await HubInstance.StartAsync();
        var topic = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = hub.Services.GetRequiredService<IMessageChannel>().Subscribe<JsonElement>("greeting", m => topic.TrySetResult(m));
        await using var sse = await SseTestClient.ConnectAsync(hub.Http, "/events?topic=news").DefaultTimeout();
        Assert.Equal("herald:open", (await sse.ReadEventAsync().DefaultTimeout()).Type);

        await Post(hub, "/api/sse", """{"to":["news"],"event":"headline","data":{"title":"Herald ships"}}""");
        await Post(hub, "/api/sse", """{"data":"plain text to everyone"}""");
        await Post(hub, "/api/publish", """{"topic":"greeting","data":{"hello":"world"}}""");

        var headline = await sse.ReadEventAsync().DefaultTimeout();
        Assert.Equal(("headline", """{"title":"Herald ships"}"""), (headline.Type, headline.Data));
        var plain = await sse.ReadEventAsync().DefaultTimeout();
        Assert.Equal(("message", "plain text to everyone"), (plain.Type ?? "message", plain.Data));
        Assert.Equal("world", (await topic.Task.DefaultTimeout()).GetProperty("hello").GetString());
    }

    [Fact]
    public async Task A_batch_runs_every_command_in_order_and_reports_each()
    {
        await using var hub = await HubInstance.StartAsync();
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();
        using var response = await hub.Http.SendAsync(hub.Post("/api/batch", $$"""
            {"commands":[
              {"type":"emit","event":"one","rooms":["{{sid}}"]},
              {"type":"nope"},
              {"type":"emit","event":"connect"},
              {"type":"emit","event":"two","rooms":["{{sid}}"]}
            ]}
            """)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
        Assert.Equal([true, false, false, true], results.EnumerateArray().Select(r => r.GetProperty("ok").GetBoolean()));
        Assert.Contains("nope", results[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("reserved", results[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("""2["one"]""", await client.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["two"]""", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Bad_bodies_end_in_400_or_413_and_nothing_is_sent()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Limits:MaxPublishBodyBytes=2048", "--Herald:Limits:MaxBatchCommands=2");
        async Task<HttpStatusCode> Status(string path, string body)
        {
            using var r = await hub.Http.SendAsync(hub.Post(path, body)).DefaultTimeout();
            return r.StatusCode;
        }

        Assert.Equal(HttpStatusCode.BadRequest, await Status("/api/emit", "{not json"));
        Assert.Equal(HttpStatusCode.BadRequest, await Status("/api/emit", "[1,2]"));
        Assert.Equal(HttpStatusCode.BadRequest, await Status("/api/emit", """{"args":[1]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Status("/api/disconnect", """{"sockets":[]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Status("/api/batch", """{"commands":[{"type":"sse"},{"type":"sse"},{"type":"sse"}]}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await Status("/api/sse", $$"""{"data":"{{new string('x', 4096)}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, await Status("/api/channel-publish", "{}"));
    }

    private static async Task Post(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
