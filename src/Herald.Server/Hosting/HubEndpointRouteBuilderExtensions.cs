using Herald.Server.Admin;
using Herald.Server.Api;
using Herald.Server.Health;
using Herald.Server.Metrics;
using Herald.Sessions;
using Herald.Sse;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>Maps what <see cref="HubServiceCollectionExtensions.AddHeraldHub"/> registered.</summary>
public static class HubEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the demo pages (when <c>Herald:Demo:Enabled</c>) and dashboard files (when <c>Herald:Admin:Enabled</c>), Socket.IO (<c>Herald:SocketIOPath</c>), SSE (<c>Herald:SsePath</c>), the
    /// peer-link channel when <c>Herald:ChannelKey</c> is set, the publish API (<c>/api</c>), the OpenAPI description
    /// (<c>/openapi.json</c>), <c>/healthz</c>, <c>/readyz</c> and the dashboard API (<c>/admin/api</c>).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The Socket.IO server and the SSE server, for the application's own handlers.</returns>
    public static (SocketIO.SocketIOServer Io, SseServer Sse) MapHeraldHub(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var hub = app.Services.GetRequiredService<IOptions<HubOptions>>().Value;
        app.Services.GetRequiredService<HubKeys>(); // logs the generated key, if any, at start
        app.Services.GetRequiredService<HubMetricsCollector>();
        app.Services.GetRequiredService<SseClientRegistry>();
        app.Services.GetService<HubOpenTelemetry>(); // starts the OTLP export when configured
        WarnWithoutSharedSecret(app, hub);
        if (hub.ForwardedHeaders.Enabled)
        {
            app.UseForwardedHeaders(hub.ForwardedHeaders.ToMiddlewareOptions()); // before the session cookie: Secure behind TLS
        }

        app.UseHeraldSessions(); // before static files: the page load itself gets the herald.sid cookie
        var files = new HubStaticFiles(app.Environment.WebRootFileProvider, hub.Demo.Enabled, hub.Admin.Enabled);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });

        var io = app.MapSocketIO(hub.SocketIOPath);
        app.Services.GetRequiredService<HubNamespaces>().Apply();
        var sse = app.MapServerSentEvents(hub.SsePath);
        if (hub.Demo.Enabled)
        {
            DemoChat.Map(io, sse);
            TypedDemo.Map(app, io);
        }

        if (!string.IsNullOrEmpty(hub.ChannelKey))
        {
            app.MapHeraldChannel("/herald/channel");
        }

        PublishEndpoints.Map(app);
        if (hub.Identity.Enabled)
        {
            PresenceEndpoints.Map(app); // GET /api/presence (Herald:Identity)
        }
        HealthEndpoints.Map(app);
        if (hub.Admin.Enabled)
        {
            AdminEndpoints.Map(app);
        }

        app.MapOpenApi("/openapi.json");
        return (io, sse);
    }

    /// <summary>
    /// A node of a cluster (Redis) without <c>Herald:Secret</c> (nor both explicit keys) signs cookies and SSE resume
    /// tokens with random keys of its own: it works, but a browser moving to another node starts a new session. Say so
    /// once at start rather than let users find out from lost channels.
    /// </summary>
    private static void WarnWithoutSharedSecret(WebApplication app, HubOptions hub)
    {
        if (string.IsNullOrWhiteSpace(hub.Redis.ConnectionString) || !string.IsNullOrEmpty(hub.Secret))
        {
            return;
        }

        var config = app.Configuration;
        if (!string.IsNullOrEmpty(config["Herald:Sessions:SigningKey"]) && !string.IsNullOrEmpty(config["Herald:Sse:ResumeKey"]))
        {
            return;
        }

        app.Logger.LogWarning(
            "Herald:Redis is set but Herald:Secret is not: this node signs session cookies and SSE resume tokens with random keys of its own, so a browser that reconnects to another node gets a new session. Give every node the same Herald:Secret (at least {MinLength} characters).",
            HubSecret.MinLength);
    }
}
