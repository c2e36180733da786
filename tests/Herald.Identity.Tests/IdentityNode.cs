using System.Collections.Concurrent;
using System.Net;
using Herald.Messaging.Publish;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Identity.Tests;

/// <summary>
/// A web node on real Kestrel (127.0.0.1:0): Socket.IO at /socket.io/, SSE at /events, sessions, and Herald identity
/// configured by the test. Fails its disposal on any Warning-or-worse log.
/// </summary>
internal sealed class IdentityNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _errors;

    private IdentityNode(WebApplication app, string baseUrl, ConcurrentQueue<string> errors)
    {
        _app = app;
        BaseUrl = baseUrl;
        _errors = errors;
        Http = new HttpClient(new SocketsHttpHandler { UseCookies = false, MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero });
    }

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public Publisher Publisher => Services.GetRequiredService<Publisher>();

    public SocketIOServer Io => Services.GetRequiredService<SocketIOServer>();

    public static async Task<IdentityNode> StartAsync(Action<HeraldIdentityOptions> identity, Action<IServiceCollection>? services = null, bool allowWarnings = false)
    {
        var log = new ErrorLogCollector(allowWarnings ? LogLevel.Error : LogLevel.Warning);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Logging.AddFilter<ErrorLogCollector>("Herald.Audit", LogLevel.None); // refusals are audited at Warning: expected here
        builder.Services.AddSocketIO(o => o.Engine.PingInterval = TimeSpan.FromSeconds(20));
        builder.Services.AddServerSentEvents(o => o.HeartbeatInterval = TimeSpan.FromMinutes(10));
        builder.Services.AddHeraldSessions();
        builder.Services.AddHeraldIdentity(identity);
        builder.Services.AddClusterAdapter(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.HeartbeatTimeout = TimeSpan.FromSeconds(2);
        });
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseHeraldSessions();
        var io = app.MapSocketIO("/socket.io");
        app.MapServerSentEvents("/events");
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await ((ClusterAdapter)io.Sockets.Adapter).Ready.DefaultTimeout();
        return new IdentityNode(app, address, log.Errors);
    }

    public Task<IdClient> ConnectAsync(string? token) => IdClient.ConnectAsync(BaseUrl, token is null ? null : new { token });

    public Task<ConnectRefusedException> RefusedAsync(string? token) => IdClient.RefusedAsync(BaseUrl, token is null ? null : new { token });

    public Task<SseTestClient> OpenSseAsync(string query) => SseTestClient.ConnectAsync(Http, BaseUrl + "/events" + query);

    /// <summary>Opens an EventSource with the query and reads <c>herald:open</c>.</summary>
    public async Task<SseTestClient> ConnectSseAsync(string query)
    {
        var client = await OpenSseAsync(query).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("herald:open", open.Type);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        Assert.True(_errors.IsEmpty, "Unexpected error logs:\n" + string.Join("\n", _errors));
    }
}
