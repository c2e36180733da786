using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests;

/// <summary>
/// Security audit (issue 13): authentication failures and admin actions leave an audit line (category
/// <c>Herald.Audit</c>) that never holds the secret presented; the dashboard redacts handshake tokens; /readyz tells an
/// anonymous caller only whether the node is ready.
/// </summary>
public class AuditAndAdminTests
{
    private const string WrongKey = "wrong-key-SECRET-0123456789";
    private const string Password = "correct-horse-battery";

    private static bool IsAudit(TestLogSink.Entry e) => e.Category == "Herald.Audit";

    private static void NoSecretIn(TestLogSink logs, params string[] secrets)
    {
        foreach (var e in logs.Entries)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, e.Message + e.Exception, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_wrong_api_key_is_audited_without_the_key()
    {
        var logs = new TestLogSink();
        await using var hub = await HubInstance.StartAsync(logs);
        using var response = await hub.Http.SendAsync(hub.Post("/api/emit", """{"event":"x"}""", WrongKey)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var line = await logs.WaitForAsync(e => IsAudit(e) && e.Message.Contains("/api/emit", StringComparison.Ordinal)).DefaultTimeout();
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, line.Level);
        Assert.Contains("127.0.0.1", line.Message, StringComparison.Ordinal);
        NoSecretIn(logs, WrongKey);
    }

    [Fact]
    public async Task Outside_development_a_hub_without_credentials_logs_no_key_and_refuses_every_request()
    {
        var logs = new TestLogSink();
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(new Microsoft.AspNetCore.Builder.WebApplicationOptions
        {
            Args = ["--urls", "http://127.0.0.1:0"], // no Herald:ApiKeys, no Herald:Admin credentials; Production
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        Herald.Server.Hosting.HubServiceCollectionExtensions.AddHeraldHub(builder);
        await using var app = builder.Build();
        Herald.Server.Hosting.HubEndpointRouteBuilderExtensions.MapHeraldHub(app);
        await app.StartAsync().DefaultTimeout();
        try
        {
            var key = app.Services.GetRequiredService<Herald.Server.Hosting.HubKeys>().GeneratedKey!;
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(key, StringComparison.Ordinal));
            Assert.Contains(logs.Entries, e => e.Message.Contains("refuse every request", StringComparison.Ordinal));
            var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            using var admin = await http.GetAsync("/admin/api/overview").DefaultTimeout();
            Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        }
        finally
        {
            await app.StopAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task Refusal_audit_lines_are_rate_limited_node_wide()
    {
        var logs = new TestLogSink();
        await using var hub = await HubInstance.StartAsync(logs);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            using var response = await hub.Http.SendAsync(hub.Post("/api/emit", """{"event":"x"}""", WrongKey)).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var elapsed = watch.Elapsed.TotalSeconds;
        var lines = logs.Entries.Count(IsAudit);
        Assert.InRange(lines, 50, 50 + (int)Math.Ceiling(elapsed * 10) + 1); // burst 50, then 10 per second
    }

    [Fact]
    public async Task A_failed_dashboard_login_and_an_admin_action_are_audited_without_the_password()
    {
        var logs = new TestLogSink();
        await using var hub = await HubInstance.StartAsync(logs, "--Herald:Admin:Username=admin", "--Herald:Admin:Password=" + Password);
        using (var bad = new HttpRequestMessage(HttpMethod.Get, "/admin/api/sockets"))
        {
            bad.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:guess-" + Password)));
            using var r = await hub.Http.SendAsync(bad).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        await logs.WaitForAsync(e => IsAudit(e) && e.Message.Contains("/admin/api/sockets", StringComparison.Ordinal)).DefaultTimeout();

        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();
        using (var disconnect = new HttpRequestMessage(HttpMethod.Post, "/admin/api/sockets/disconnect") { Content = new StringContent($$"""{"id":"{{sid}}"}""", Encoding.UTF8, "application/json") })
        {
            disconnect.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + Password)));
            using var r = await hub.Http.SendAsync(disconnect).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var action = await logs.WaitForAsync(e => IsAudit(e) && e.Message.Contains("disconnect", StringComparison.Ordinal) && e.Message.Contains(sid, StringComparison.Ordinal)).DefaultTimeout();
        Assert.Contains("admin", action.Message, StringComparison.Ordinal); // who
        NoSecretIn(logs, Password, Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + Password)));
    }

    [Fact]
    public async Task A_socket_io_connection_refused_by_a_middleware_is_audited()
    {
        var logs = new TestLogSink();
        await using var hub = await HubInstance.StartAsync(logs, "--Herald:Namespaces:0=/chat");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await client.SendAsync("0").DefaultTimeout();
        Assert.StartsWith("4", await client.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);
        var line = await logs.WaitForAsync(e => IsAudit(e) && e.Message.Contains("refused", StringComparison.Ordinal)).DefaultTimeout();
        Assert.Contains("127.0.0.1", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_redacts_handshake_auth_and_query_values_by_default()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Admin:Username=admin", "--Herald:Admin:Password=" + Password);
        var socket = await ConnectedSocketView(hub, "token=query-SECRET");
        var handshake = socket.GetProperty("handshake");
        Assert.DoesNotContain("SECRET", handshake.GetRawText(), StringComparison.Ordinal);
        Assert.True(handshake.GetProperty("auth").TryGetProperty("token", out _)); // the keys stay, the values go
        Assert.True(handshake.GetProperty("query").TryGetProperty("token", out _));
    }

    [Fact]
    public async Task The_dashboard_shows_handshake_values_when_asked_to()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Admin:Username=admin", "--Herald:Admin:Password=" + Password, "--Herald:Admin:ShowHandshakeSecrets=true");
        var socket = await ConnectedSocketView(hub, "token=query-SECRET");
        Assert.Equal("auth-SECRET", socket.GetProperty("handshake").GetProperty("auth").GetProperty("token").GetString());
        Assert.Equal("query-SECRET", socket.GetProperty("handshake").GetProperty("query").GetProperty("token").GetString());
    }

    [Fact]
    public async Task Readyz_tells_an_anonymous_caller_only_its_status()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:NodeName=secret-node-name");
        var anonymous = await hub.Http.GetStringAsync("/readyz").DefaultTimeout();
        Assert.DoesNotContain("secret-node-name", anonymous, StringComparison.Ordinal);
        Assert.DoesNotContain("MessageBus", anonymous, StringComparison.Ordinal);
        Assert.Contains("ready", anonymous, StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/readyz");
        request.Headers.TryAddWithoutValidation("X-Herald-Key", HubInstance.Key);
        using var detailed = await hub.Http.SendAsync(request).DefaultTimeout();
        var body = await detailed.Content.ReadAsStringAsync();
        Assert.Contains("secret-node-name", body, StringComparison.Ordinal);
        Assert.Contains("InMemoryMessageBus", body, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ConnectedSocketView(HubInstance hub, string query)
    {
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri, query: query).DefaultTimeout();
        var sid = await client.ConnectAsync("/", """{"token":"auth-SECRET"}""").DefaultTimeout();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/sockets");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + Password)));
        using var response = await hub.Http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return list.EnumerateArray().Single(s => s.GetProperty("id").GetString() == sid);
    }
}
