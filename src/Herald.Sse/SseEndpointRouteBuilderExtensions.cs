using Herald.Sse;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Server-Sent Events endpoint.</summary>
public static class SseEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps an EventSource endpoint (GET, plus OPTIONS for CORS preflights) served by the <see cref="SseServer"/> from DI
    /// (<c>services.AddServerSentEvents()</c>), and returns that server. The streams end when the application stops.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route, <c>/events</c> by default.</param>
    /// <param name="configureEndpoint">Configures the endpoint (e.g. <c>e => e.RequireAuthorization()</c>).</param>
    /// <returns>The SSE server.</returns>
    public static SseServer MapServerSentEvents(this IEndpointRouteBuilder endpoints, string pattern = "/events", Action<IEndpointConventionBuilder>? configureEndpoint = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var server = endpoints.ServiceProvider.GetService<SseServer>()
            ?? throw new InvalidOperationException("Call services.AddServerSentEvents() before app.MapServerSentEvents().");
        var builder = endpoints.MapMethods(pattern, ["GET", "OPTIONS"], server.HandleRequestAsync)
            .WithDisplayName("Herald SSE " + pattern);
        configureEndpoint?.Invoke(builder);
        endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(static s => ((SseServer)s!).Shutdown(), server);
        return server;
    }
}
