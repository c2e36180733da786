using System.Collections.Concurrent;
using System.Net;
using Herald.Messaging;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Sse;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Sessions.Tests;

/// <summary>
/// A web node on real Kestrel (127.0.0.1:0): Socket.IO at /socket.io/, SSE at /events, sessions, and a small
/// "RPC" surface the tests drive like an application would: <c>GET /session</c> (sets the cookie, returns the id),
/// and the socket events <c>subscribe</c>/<c>unsubscribe</c>/<c>reset</c>/<c>list</c>/<c>login</c>/<c>logout</c>
/// that call the session API of the calling socket and ack.
/// </summary>
internal sealed class SessionsNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _errors;

    private SessionsNode(WebApplication app, string baseUrl, ConcurrentQueue<string> errors, TestLogSink logs)
    {
        Logs = logs;
        _app = app;
        BaseUrl = baseUrl;
        _errors = errors;
        Http = new HttpClient(new SocketsHttpHandler { UseCookies = false, MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero });
    }

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public Publisher Publisher => Services.GetRequiredService<Publisher>();

    public HeraldSessionManager Sessions => Services.GetRequiredService<HeraldSessionManager>();

    public string NodeName => Services.GetRequiredService<IMessageBus>().NodeName;

    public const string SharedSigningKey = "sessions-test-signing-key-0123456789abcdef";

    /// <summary>Every log line of the node, Debug and up.</summary>
    public TestLogSink Logs { get; } = new();

    public static async Task<SessionsNode> StartAsync(Action<IServiceCollection>? services = null, Action<HeraldSessionOptions>? sessions = null, Action<WebApplication>? beforeSessions = null)
    {
        var log = new ErrorLogCollector(LogLevel.Warning);
        var errors = log.Errors;
        var sink = new TestLogSink();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(log);
        builder.Logging.AddProvider(sink);
        builder.Services.AddSocketIO(o => o.Engine.PingInterval = TimeSpan.FromSeconds(20));
        builder.Services.AddServerSentEvents(o => o.HeartbeatInterval = TimeSpan.FromMinutes(10));
        builder.Services.AddHeraldSessions(o =>
        {
            // The nodes of a test share a key, like a correctly configured cluster.
            o.SigningKey = SharedSigningKey;
            sessions?.Invoke(o);
        });
        builder.Services.AddClusterAdapter(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.HeartbeatTimeout = TimeSpan.FromSeconds(2);
        });
        services?.Invoke(builder.Services);
        var app = builder.Build();
        beforeSessions?.Invoke(app);
        app.UseHeraldSessions();
        var io = app.MapSocketIO("/socket.io");
        app.MapServerSentEvents("/events");
        app.MapGet("/session", (HttpContext ctx) => ctx.GetHeraldSession()!.Id);
        io.OnConnection(socket =>
        {
            var session = socket.GetHeraldSession()!;
            socket.On<string[]>("subscribe", async (channels, ack) =>
            {
                await session.Channels.SubscribeAsync(channels);
                ack(true);
            });
            socket.On<string[]>("unsubscribe", async (channels, ack) =>
            {
                await session.Channels.UnsubscribeAsync(channels);
                ack(true);
            });
            socket.On("reset", async (SocketEvent e) =>
            {
                await session.Channels.ResetAsync();
                e.Ack(true);
            });
            socket.On("list", async (SocketEvent e) => e.Ack(await session.Channels.ListAsync()));
            socket.On<string>("login", async (user, ack) =>
            {
                await session.SetUserIdAsync(user);
                ack(true);
            });
            socket.On("logout", async (SocketEvent e) =>
            {
                await session.SetUserIdAsync(null);
                e.Ack(true);
            });
            socket.On("whoami", (SocketEvent e) =>
            {
                e.Ack(new { socket = socket.Id, session = session.Id });
                return ValueTask.CompletedTask;
            });
        });
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await ((ClusterAdapter)io.Sockets.Adapter).Ready.DefaultTimeout();
        return new SessionsNode(app, address, errors, sink);
    }

    /// <summary>A new browser: GET /session gives it a cookie; returns the cookie value (<c>{session id}.{signature}</c>).</summary>
    public async Task<string> NewBrowserSessionAsync()
    {
        using var response = await Http.GetAsync(BaseUrl + "/session").DefaultTimeout();
        response.EnsureSuccessStatusCode();
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("herald.sid=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        var id = await response.Content.ReadAsStringAsync().DefaultTimeout();
        var cookie = setCookie.Split(';')[0]["herald.sid=".Length..];
        Assert.StartsWith(id + ".", cookie, StringComparison.Ordinal);
        return cookie;
    }

    /// <summary>The session id inside a <c>herald.sid</c> cookie value (<c>{id}.{signature}</c>; the whole value before signing existed).</summary>
    public string SessionIdOf(string cookie) => cookie.Split('.')[0];

    public Task<SioClient> ConnectAsync(string? session, string? origin = null) => SioClient.ConnectAsync(BaseUrl, session, origin);

    /// <summary>Opens an EventSource-like stream with the session cookie and reads <c>herald:open</c>.</summary>
    public async Task<(SseTestClient Client, string Id)> ConnectSseAsync(string session, string query = "", string? origin = null, string? lastEventId = null)
    {
        var client = await SseTestClient.ConnectAsync(Http, BaseUrl + "/events" + query, lastEventId, r =>
        {
            r.Headers.Add("Cookie", "herald.sid=" + session);
            if (origin is not null)
            {
                r.Headers.Add("Origin", origin);
            }
        }).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("herald:open", open.Type);
        using var doc = System.Text.Json.JsonDocument.Parse(open.Data);
        return (client, doc.RootElement.GetProperty("clientId").GetString()!);
    }

    public async Task<HttpStatusCode> SseStatusAsync(string session, string query)
    {
        await using var client = await SseTestClient.ConnectAsync(Http, BaseUrl + "/events" + query, null, r => r.Headers.Add("Cookie", "herald.sid=" + session)).DefaultTimeout();
        return client.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        Assert.True(_errors.IsEmpty, "Unexpected error logs:\n" + string.Join("\n", _errors));
    }
}
