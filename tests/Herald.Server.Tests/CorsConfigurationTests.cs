using System.Net;
using Herald.Server.Hosting;
using Herald.Testing;

namespace Herald.Server.Tests;

/// <summary>
/// Security audit (issue 13), configuration: a configured list replaces the default instead of adding to it, CORS is
/// closed unless configured, and the start-up check sees the effective Socket.IO/Engine.IO options.
/// </summary>
public class CorsConfigurationTests
{
    private const string Handshake = "/socket.io/?EIO=4&transport=polling";

    private static async Task<HttpResponseMessage> GetWithOrigin(HubInstance hub, string origin, string path = Handshake)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        return await hub.Http.SendAsync(request).DefaultTimeout();
    }

    private static string? AllowOrigin(HttpResponseMessage response)
        => response.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null;

    [Fact]
    public async Task Configured_engine_origins_replace_the_default_star()
    {
        await using var hub = await HubInstance.StartAsync(
            "--Herald:SocketIO:Engine:Cors:Origins:0=https://app.example", "--Herald:SocketIO:Engine:Cors:Credentials=true");
        using (var allowed = await GetWithOrigin(hub, "https://app.example"))
        {
            Assert.Equal("https://app.example", AllowOrigin(allowed));
            Assert.Equal("true", allowed.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        }

        foreach (var origin in new[] { "https://evil.example", "null" })
        {
            using var refused = await GetWithOrigin(hub, origin);
            Assert.Null(AllowOrigin(refused));
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Credentials"), origin);
        }
    }

    [Fact]
    public async Task Cors_settings_without_origins_allow_no_origin()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:SocketIO:Engine:Cors:Credentials=true");
        using var response = await GetWithOrigin(hub, "https://evil.example");
        Assert.Null(AllowOrigin(response));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task No_cors_headers_by_default()
    {
        await using var hub = await HubInstance.StartAsync();
        using var response = await GetWithOrigin(hub, "https://evil.example");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(AllowOrigin(response));
    }

    [Fact]
    public async Task The_null_origin_is_never_echoed_with_credentials_by_the_hub_setting()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Cors:Origins:0=https://app.example", "--Herald:Cors:Credentials=true");
        using var refused = await GetWithOrigin(hub, "null");
        Assert.Null(AllowOrigin(refused));
        using var allowed = await GetWithOrigin(hub, "https://app.example");
        Assert.Equal("https://app.example", AllowOrigin(allowed));
    }

    [Fact]
    public async Task Configured_transports_replace_the_default_list()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:SocketIO:Engine:Transports:0=websocket");
        using var polling = await hub.Http.GetAsync(Handshake).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, polling.StatusCode);
        await using var ws = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await ws.ConnectAsync().DefaultTimeout();
    }

    [Fact]
    public async Task A_namespace_list_given_on_the_command_line_is_the_whole_list()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Namespaces:0=/orders");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await client.ConnectAsync("/orders").DefaultTimeout();
        await client.SendAsync("0/chat,").DefaultTimeout();
        Assert.StartsWith("4/chat,", await client.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal); // CONNECT_ERROR
    }

    [Theory]
    [InlineData("Herald:SocketIO:Engine:Cors", "--Herald:SocketIO:Engine:Cors:Origins:0=*", "--Herald:SocketIO:Engine:Cors:Credentials=true")]
    [InlineData("Herald:SocketIO:Engine:Cors:Origins:0", "--Herald:SocketIO:Engine:Cors:Origins:0=null", "--Herald:SocketIO:Engine:Cors:Credentials=true")]
    [InlineData("Herald:SocketIO:Engine:Cors:Origins:0", "--Herald:SocketIO:Engine:Cors:Origins:0=https://app.example/path", "--Herald:SocketIO:Engine:Cors:Credentials=false")]
    [InlineData("Herald:SocketIO:Engine:Transports:0", "--Herald:SocketIO:Engine:Transports:0=carrier-pigeon", "--Herald:NodeName=a")]
    [InlineData("Herald:SocketIO:Engine:MaxHttpBufferSize", "--Herald:SocketIO:Engine:MaxHttpBufferSize=0", "--Herald:NodeName=a")]
    [InlineData("Herald:SocketIO:MaxAttachments", "--Herald:SocketIO:MaxAttachments=-1", "--Herald:NodeName=a")]
    [InlineData("Herald:Cors:Origins:0", "--Herald:Cors:Origins:0=null", "--Herald:Cors:Credentials=true")]
    public void The_start_up_check_refuses_unsafe_effective_socket_io_settings(string named, string setting, string other)
    {
        var builder = HubInstance.CreateBuilder(setting, other);
        var e = Assert.Throws<HubConfigurationException>(() => builder.AddHeraldHub());
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
