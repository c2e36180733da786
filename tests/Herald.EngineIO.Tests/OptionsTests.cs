using System.Net;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class OptionsTests
{
    [Fact]
    public async Task Cors_AllowListedOrigin_WithCredentials()
    {
        await using var host = await EngineIOTestHost.StartAsync(o =>
            o.Cors = new EngineIOCorsOptions { Origins = ["https://app.example"], Credentials = true, MaxAge = TimeSpan.FromMinutes(1) });
        using var http = host.CreateClient().Http;

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/engine.io/?EIO=4&transport=polling"))
        {
            request.Headers.Add("Origin", "https://app.example");
            using var response = await http.SendAsync(request).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/engine.io/?EIO=4&transport=polling"))
        {
            request.Headers.Add("Origin", "https://evil.example");
            using var response = await http.SendAsync(request).DefaultTimeout();
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "/engine.io/?EIO=4&transport=polling"))
        {
            preflight.Headers.Add("Origin", "https://app.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var response = await http.SendAsync(preflight).DefaultTimeout();
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
            Assert.Equal("content-type", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
            Assert.Equal("60", response.Headers.GetValues("Access-Control-Max-Age").Single());
        }

        // CORS only tells the browser whether the page may read the answer: both handshakes happened.
        Assert.Equal(2, host.Server.SessionCount);
    }

    [Fact]
    public async Task Cors_Star_AlsoOnErrors()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.Cors = new EngineIOCorsOptions { Origins = ["*"] });
        using var http = host.CreateClient().Http;
        using var response = await http.GetAsync("/engine.io/?EIO=4&transport=nope").DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task NoCors_ByDefault()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        using var http = host.CreateClient().Http;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/engine.io/?EIO=4&transport=polling");
        request.Headers.Add("Origin", "https://app.example");
        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Cookie_IsSetOnHandshake()
    {
        await using var host = await EngineIOTestHost.StartAsync(o => o.Cookie = new EngineIOCookieOptions());
        using var http = host.CreateClient().Http;
        using var response = await http.GetAsync("/engine.io/?EIO=4&transport=polling").DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();
        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        var sid = System.Text.Json.JsonDocument.Parse(body[1..]).RootElement.GetProperty("sid").GetString();
        Assert.StartsWith($"io={sid}; path=/", cookie);
        Assert.Contains("samesite=lax", cookie);
        Assert.Contains("httponly", cookie);
    }

    [Fact]
    public async Task AllowRequest_Refusal_Answers403WithMessage()
    {
        await using var host = await EngineIOTestHost.StartAsync(o =>
            o.AllowRequest = ctx => ValueTask.FromResult<(bool, string?)>((ctx.Request.Query["token"] == "good", "bad token")));
        using var http = host.CreateClient().Http;

        using (var refused = await http.GetAsync("/engine.io/?EIO=4&transport=polling&token=bad").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("{\"code\":4,\"message\":\"bad token\"}", await refused.Content.ReadAsStringAsync());
        }

        using (var accepted = await http.GetAsync("/engine.io/?EIO=4&transport=polling&token=good").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        Assert.Equal(1, host.Server.SessionCount);
    }

    [Fact]
    public void Options_RejectNonsense()
    {
        var handler = new RecordingHandler();
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { PingInterval = TimeSpan.Zero }, handler));
        Assert.Throws<ArgumentException>(() => new EngineIOServer(new EngineIOOptions { MaxOutboundQueue = 0 }, handler));
    }
}
