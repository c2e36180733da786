using System.Net;
using System.Text.Json;
using Herald.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Herald.Sse.Tests;

public class SseEndpointTests
{
    [Fact]
    public async Task ConnectGetsHeadersRetryAndAnOpenEventWithAServerAssignedId()
    {
        await using var host = await SseTestHost.StartAsync(o => o.RetryInterval = TimeSpan.FromMilliseconds(2500));
        await using var client = await host.ConnectAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        Assert.Equal("text/event-stream", client.Response.Content.Headers.ContentType!.MediaType);
        Assert.True(client.Response.Headers.CacheControl!.NoCache);
        Assert.Equal("no", Assert.Single(client.Response.Headers.GetValues("X-Accel-Buffering")));

        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("herald:open", open.Type);
        Assert.Equal(2500, client.Retry);
        var payload = OpenPayload.Parse(open.Data);
        Assert.False(payload.Resumed);
        Assert.Equal(22, payload.ClientId.Length);
        Assert.Equal(16, System.Buffers.Text.Base64Url.DecodeFromChars(payload.ClientId).Length);
        Assert.DoesNotContain(payload.ClientId, client.LastEventId, StringComparison.Ordinal); // the id line carries a resume token
        Assert.True(host.Server.TryGetClient(payload.ClientId, out var server));
        Assert.True(server.IsConnected);

        var (other, otherId) = await host.ConnectOpenAsync();
        await using var _ = other;
        Assert.NotEqual(payload.ClientId, otherId);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task SendAndEmitReachEveryClientAsStringsOrJson()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, _) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        host.Server.Send("hello");
        host.Server.Emit("greeting", new { Text = "hi", Count = 2 });
        host.Server.Send("multi\nline\r\ndata");
        host.Server.Send("héllo wörld 你好 🚀");
        host.Server.Emit("empty");

        foreach (var client in new[] { a, b })
        {
            var ids = new List<string>();
            var e = await client.ReadEventAsync().DefaultTimeout();
            Assert.Equal(("message", "hello"), (e.Type, e.Data));
            ids.Add(e.LastEventId);
            e = await client.ReadEventAsync().DefaultTimeout();
            Assert.Equal(("greeting", "{\"text\":\"hi\",\"count\":2}"), (e.Type, e.Data));
            ids.Add(e.LastEventId);
            e = await client.ReadEventAsync().DefaultTimeout();
            Assert.Equal(("message", "multi\nline\ndata"), (e.Type, e.Data));
            e = await client.ReadEventAsync().DefaultTimeout();
            Assert.Equal("héllo wörld 你好 🚀", e.Data);
            e = await client.ReadEventAsync().DefaultTimeout();
            Assert.Equal(("empty", ""), (e.Type, e.Data));
            Assert.NotEqual(ids[0], ids[1]);
        }
    }

    [Fact]
    public async Task ToOneClientReachesOnlyThatClient()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        host.Server.To(aId).Emit("private", "for a");
        Assert.True(host.Server.TryGetClient(aId, out var client));
        client.Send(new[] { 1, 2 });
        host.Server.Send("all");

        Assert.Equal(("private", "for a"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("message", "[1,2]"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("message", "all"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("message", "all"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
    }

    [Fact]
    public async Task TopicsFromTheServerAndTheQueryAndTheirUnionOncePerClient()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync("?topic=news");
        var (b, bId) = await host.ConnectOpenAsync();
        var (c, _) = await host.ConnectOpenAsync("?topic=sport&topic=weather");
        await using var a_ = a;
        await using var b_ = b;
        await using var c_ = c;
        Assert.True(host.Server.TryGetClient(bId, out var bClient));
        bClient.Join("sport");
        Assert.Equal(["sport"], bClient.Topics);

        host.Server.To("news").Send("n1");
        host.Server.To("sport").Send("s1");
        host.Server.To("news", "sport", aId, "weather").Send("u1");
        host.Server.To("nobody").Send("lost");
        host.Server.Send("end");

        Assert.Equal(["n1", "u1", "end"], await ReadData(a, 3));
        Assert.Equal(["s1", "u1", "end"], await ReadData(b, 3));
        Assert.Equal(["s1", "u1", "end"], await ReadData(c, 3));

        bClient.Leave("sport");
        host.Server.To("sport").To(aId).Send("s2");
        host.Server.Send("end2");
        Assert.Equal(["end2"], await ReadData(b, 1));
        Assert.Equal(["s2", "end2"], await ReadData(a, 2));
        Assert.Equal(["s2", "end2"], await ReadData(c, 2));
    }

    [Fact]
    public async Task CloseIsFinalAndAReconnectGets204()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, aId) = await host.ConnectOpenAsync("?topic=t");
        var (b, _) = await host.ConnectOpenAsync("?topic=t");
        await using var a_ = a;
        await using var b_ = b;
        var disconnected = host.WhenDisconnected(aId);

        host.Server.To(aId).Emit("bye", "last words");
        host.Server.To(aId).Close();

        // What was queued before Close() is delivered, then the stream ends.
        var rest = await a.ReadToEndAsync().DefaultTimeout();
        Assert.Equal(("bye", "last words"), Tuple(Assert.Single(rest)));
        Assert.Equal(SseDisconnectReason.ClosedByServer, await disconnected.DefaultTimeout());
        Assert.False(host.Server.TryGetClient(aId, out _));

        await using var again = await host.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);

        // The others are untouched, and the closed client left its topic.
        host.Server.To("t").Send("still here");
        Assert.Equal(["still here"], await ReadData(b, 1));
    }

    [Fact]
    public async Task CloseAllEndsEveryStream()
    {
        await using var host = await SseTestHost.StartAsync();
        var (a, _) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        host.Server.Close();

        Assert.Empty(await a.ReadToEndAsync().DefaultTimeout());
        Assert.Empty(await b.ReadToEndAsync().DefaultTimeout());
        await using var again = await host.ConnectAsync(lastEventId: b.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task RequestedTopicsAreAuthorizedAndARefusedTopicIs403()
    {
        await using var host = await SseTestHost.StartAsync(o =>
            o.AuthorizeTopic = (context, topic) => ValueTask.FromResult(!topic.StartsWith("secret", StringComparison.Ordinal)));

        var (a, _) = await host.ConnectOpenAsync("?topic=public");
        await using var a_ = a;
        await using var refused = await host.ConnectAsync("?topic=public&topic=secret-1").DefaultTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains(host.Logs.Entries, e => e.EventId.Name == "TopicRefused");

        host.Server.To("public").Send("p");
        Assert.Equal(["p"], await ReadData(a, 1));
    }

    [Fact]
    public async Task MalformedTopicRequestsAre400()
    {
        await using var host = await SseTestHost.StartAsync(o => o.MaxTopicsPerRequest = 2);
        await using var tooMany = await host.ConnectAsync("?topic=a&topic=b&topic=c").DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        await using var empty = await host.ConnectAsync("?topic=").DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        await using var tooLong = await host.ConnectAsync("?topic=" + new string('x', 300)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task TheAuthorizationHookRejectsOrNamesTheClientAndItsTopics()
    {
        await using var host = await SseTestHost.StartAsync(o => o.Authorize = context =>
        {
            var user = context.Request.Headers["X-User"].ToString();
            return ValueTask.FromResult(user.Length == 0
                ? SseAuthorizationResult.Reject(401)
                : SseAuthorizationResult.Accept("user-" + user, ["user:" + user]));
        });

        await using var anonymous = await host.ConnectAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        await using var client = await host.ConnectAsync(configure: r => r.Headers.Add("X-User", "42")).DefaultTimeout();
        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("user-42", OpenPayload.Parse(open.Data).ClientId);

        host.Server.To("user:42").Send("to the user's topic");
        host.Server.To("user-42").Send("to the id");
        Assert.Equal(["to the user's topic", "to the id"], await ReadData(client, 2));
    }

    [Fact]
    public async Task MaxClientsRefusesWith503()
    {
        using var refused = new SseCounter("herald.sse.connections_refused");
        await using var host = await SseTestHost.StartAsync(o => o.MaxClients = 2);
        var (a, aId) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var b_ = b;

        await using (var third = await host.ConnectAsync().DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        }

        var gone = host.WhenDisconnected(aId);
        await a.DisposeAsync();
        Assert.Equal(SseDisconnectReason.ClientDisconnected, await gone.DefaultTimeout());

        var (c, _) = await host.ConnectOpenAsync();
        await using var c_ = c;
        Assert.Contains(host.Logs.Entries, e => e.EventId.Name == "MaxClientsReached");
        Assert.True(refused.Value >= 1);
    }

    [Fact]
    public async Task ASlowClientIsDisconnectedAndTheOthersKeepReceiving()
    {
        using var slowCount = new SseCounter("herald.sse.slow_client_disconnects");
        await using var host = await SseTestHost.StartAsync(o =>
        {
            o.MaxQueuedBytes = 128 * 1024;
            o.MaxQueuedMessages = 1_000_000;
        });
        var (slow, slowId) = await host.ConnectOpenAsync();
        var (fast, _) = await host.ConnectOpenAsync();
        await using var slow_ = slow;
        await using var fast_ = fast;
        var slowGone = host.WhenDisconnected(slowId);

        // The slow client stops reading; its socket buffers fill, then its queue. The fast one reads every event.
        var payload = new string('x', 16 * 1024);
        var sent = 0;
        while (!slowGone.IsCompleted)
        {
            Assert.True(sent < 4000, "the slow client was never disconnected");
            host.Server.Send(payload);
            sent++;
            Assert.Equal(payload.Length, (await fast.ReadEventAsync().DefaultTimeout()).Data.Length);
        }

        Assert.Equal(SseDisconnectReason.SlowClient, await slowGone.DefaultTimeout());
        var warning = Assert.Single(host.Logs.Entries, e => e.EventId.Name == "SlowClient");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(slowId, warning.Message, StringComparison.Ordinal);
        Assert.True(slowCount.Value >= 1);

        host.Server.Send("after");
        Assert.Equal(["after"], await ReadData(fast, 1));

        // The slow client's stream ends once it drains what reached its socket.
        await slow.ReadToEndAsync().DefaultTimeout();
    }

    [Fact]
    public async Task CorsEchoesAllowedOriginsWithCredentialsAndRefusesOthers()
    {
        await using var host = await SseTestHost.StartAsync(o => o.AllowedOrigins.Add("https://app.example"));

        await using var allowed = await host.ConnectAsync(configure: r => r.Headers.Add("Origin", "https://app.example")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://app.example", Assert.Single(allowed.Response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(allowed.Response.Headers.GetValues("Access-Control-Allow-Credentials")));
        Assert.Contains("Origin", allowed.Response.Headers.Vary);

        await using var refused = await host.ConnectAsync(configure: r => r.Headers.Add("Origin", "https://evil.example")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        await using var sameOrigin = await host.ConnectAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, host.BaseUrl + "/events");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "last-event-id");
        using var answer = await host.Http.SendAsync(preflight).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Contains("Last-Event-ID", answer.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorksOverHttp2()
    {
        await using var host = await SseTestHost.StartAsync(protocols: HttpProtocols.Http2);
        var (a, aId) = await host.ConnectOpenAsync();
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;
        Assert.Equal(HttpVersion.Version20, a.Response.Version);

        host.Server.Emit("greeting", "over h2");
        host.Server.To(aId).Close();
        Assert.Equal(("greeting", "over h2"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("greeting", "over h2"), Tuple(Assert.Single(await a.ReadToEndAsync().DefaultTimeout())));
    }

    [Fact]
    public async Task StoppingTheApplicationEndsTheStreams()
    {
        var host = await SseTestHost.StartAsync();
        var (a, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        var stop = host.DisposeAsync().AsTask();
        Assert.Empty(await a.ReadToEndAsync().DefaultTimeout());
        await stop.DefaultTimeout();
    }

    [Fact]
    public async Task InvalidEventNamesAreRejectedBeforeAnythingIsSent()
    {
        await using var host = await SseTestHost.StartAsync();
        Assert.Throws<ArgumentException>(() => host.Server.Emit("bad\nname", "x"));
        Assert.Throws<ArgumentException>(() => host.Server.Emit("", "x"));
    }

    internal static (string?, string) Tuple(Herald.Testing.Sse.SseTestEvent e) => (e.Type, e.Data);

    internal static async Task<List<string>> ReadData(Herald.Testing.Sse.SseTestClient client, int count)
    {
        var result = new List<string>();
        for (var i = 0; i < count; i++)
        {
            result.Add((await client.ReadEventAsync().DefaultTimeout()).Data);
        }

        return result;
    }
}
