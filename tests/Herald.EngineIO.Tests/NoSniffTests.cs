using System.Net;
using System.Text;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

/// <summary>
/// Every Engine.IO HTTP answer carries <c>X-Content-Type-Options: nosniff</c>: long-polling bodies echo what clients
/// sent (and the POST answer is labelled <c>text/html</c> for the reference client's sake), so a browser must never
/// sniff them into something it renders or runs (issue 13).
/// </summary>
public class NoSniffTests
{
    [Fact]
    public async Task PollingHandshakeGetPostAndErrors_AreNoSniff()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var http = host.CreateClient().Http;

        // The handshake.
        using var open = await http.GetAsync("/engine.io/?EIO=4&transport=polling").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        AssertNoSniff(open);
        var body = await open.Content.ReadAsStringAsync();
        var sid = System.Text.Json.JsonDocument.Parse(body[1..]).RootElement.GetProperty("sid").GetString()!;

        // A POST (answered "ok" as text/html) and the GET that carries the echoed, client-influenced message.
        using (var post = await http.PostAsync($"/engine.io/?EIO=4&transport=polling&sid={sid}",
            new StringContent("4<script>alert(1)</script>", Encoding.UTF8, "text/plain")).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            AssertNoSniff(post);
        }

        await host.Handler.NextMessageAsync().DefaultTimeout();
        using (var poll = await http.GetAsync($"/engine.io/?EIO=4&transport=polling&sid={sid}").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
            Assert.Equal("4<script>alert(1)</script>", await poll.Content.ReadAsStringAsync());
            AssertNoSniff(poll);
        }

        // The error answers.
        foreach (var url in new[] { "/engine.io/?EIO=4&transport=abc", "/engine.io/?EIO=3&transport=polling", "/engine.io/?EIO=4&transport=polling&sid=unknown" })
        {
            using var error = await http.GetAsync(url).DefaultTimeout();
            Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
            AssertNoSniff(error);
        }
    }

    private static void AssertNoSniff(HttpResponseMessage response) =>
        Assert.Equal(["nosniff"], response.Headers.TryGetValues("X-Content-Type-Options", out var values) ? values : []);
}
