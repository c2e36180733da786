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
    /// Serves the demo page and dashboard files, Socket.IO (<c>Herald:SocketIOPath</c>), SSE (<c>Herald:SsePath</c>), the
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
        app.UseHeraldSessions(); // before static files: the page load itself gets the herald.sid cookie
        app.UseDefaultFiles();
        app.UseStaticFiles();

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
}
