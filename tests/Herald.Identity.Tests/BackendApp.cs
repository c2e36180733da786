using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Identity.Tests;

/// <summary>What the test backend does with the next proxy calls.</summary>
public enum BackendBehaviour
{
    Allow,
    Deny,
    Hang,
    ServerError,
    BadJson,
}

/// <summary>
/// An application backend on real Kestrel serving the proxy endpoints <c>/proxy/connect</c>, <c>/proxy/subscribe</c>,
/// <c>/proxy/publish</c>. Connect allows the user named by the <c>session</c> cookie; the test switches the behaviour
/// and reads the requests it received.
/// </summary>
internal sealed class BackendApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BackendApp(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public BackendBehaviour Behaviour { get; set; }

    /// <summary>For publish: the data the backend substitutes (null: publish as is).</summary>
    public object? ReplaceData { get; set; }

    public ConcurrentQueue<(string Path, JsonElement Body, IHeaderDictionary Headers)> Calls { get; } = new();

    public int CallsTo(string path) => Calls.Count(c => c.Path == path);

    public static async Task<BackendApp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new BackendApp(app);
        app.MapPost("/proxy/{kind}", async (string kind, HttpContext context) =>
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            var body = doc.RootElement.Clone();
            backend.Calls.Enqueue(("/proxy/" + kind, body, new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value))));
            switch (backend.Behaviour)
            {
                case BackendBehaviour.Hang:
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return Results.Empty;
                case BackendBehaviour.ServerError:
                    return Results.StatusCode(503);
                case BackendBehaviour.BadJson:
                    return Results.Text("{\"result\": not json", "application/json");
                case BackendBehaviour.Deny:
                    return Results.Json(new { error = new { code = "not_signed_in", message = "Sign in first." } });
            }

            if (kind == "connect")
            {
                var cookie = body.GetProperty("headers").TryGetProperty("Cookie", out var c) ? c.GetString() ?? "" : "";
                var user = cookie.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("session=", StringComparison.Ordinal))?["session=".Length..];
                return user is null
                    ? Results.Json(new { error = new { code = "not_signed_in", message = "No session." } })
                    : Results.Json(new { result = new { user, channels = new[] { "lobby" } } });
            }

            return backend.ReplaceData is { } replace ? Results.Json(new { result = new { data = replace } }) : Results.Json(new { result = new { } });
        });
        await app.StartAsync().DefaultTimeout();
        backend.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return backend;
    }

    public void Proxy(HeraldIdentityOptions o)
    {
        o.Proxy.ConnectUrl = new Uri(BaseUrl + "/proxy/connect");
        o.Proxy.SubscribeUrl = new Uri(BaseUrl + "/proxy/subscribe");
        o.Proxy.PublishUrl = new Uri(BaseUrl + "/proxy/publish");
        // 2 s: a proxy call that answers must not time out on a loaded CI machine (a 300 ms bound failed
        // TheConnectProxyIdentifiesACookieAuthenticatedConnection under load), while the tests that make the backend
        // hang still see the refusal (2 attempts × 2 s) inside their 10 s waits.
        o.Proxy.Timeout = TimeSpan.FromSeconds(2);
        o.Proxy.Headers["X-Hub-Key"] = "hub-to-backend";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }
}
