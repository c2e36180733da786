using Herald.Messaging.PeerLinks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the endpoint at which other nodes link to this node's message channel.</summary>
public static partial class HeraldChannelEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the peer-link endpoint (a WebSocket, GET) served by the <see cref="PeerLinkServer"/> of
    /// <c>services.AddHeraldChannel(o =&gt; o.Key = ...)</c>. A request without the right key in the
    /// <c>Herald-Key</c> header is answered 401 before any upgrade; a keyed request that is not a WebSocket
    /// upgrade, 400. Linked nodes are disconnected (1001) when the application stops.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route, <c>/herald/channel</c> by default.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapHeraldChannel(this IEndpointRouteBuilder endpoints, string pattern = "/herald/channel")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var server = services.GetService<PeerLinkServer>()
            ?? throw new InvalidOperationException("Call services.AddHeraldChannel(o => o.Key = ...) before app.MapHeraldChannel().");
        if (string.IsNullOrEmpty(server.Options.Key))
        {
            throw new InvalidOperationException("The Herald channel endpoint needs a shared key: services.AddHeraldChannel(o => o.Key = ...).");
        }

        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var loggerFactory = services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var audit = new RefusalAudit(loggerFactory.CreateLogger("Herald.Audit"));

        // Kestrel exposes WebSockets through the WebSockets middleware only; it runs here per request so that
        // the endpoint works whether or not the app called UseWebSockets. Keep-alive is the server's own.
        var webSockets = new WebSocketMiddleware(
            context => HandleAsync(context, server, stopping),
            Microsoft.Extensions.Options.Options.Create(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero }),
            loggerFactory);

        return endpoints.MapGet(pattern, (RequestDelegate)(context =>
            {
                if (!server.IsAuthorized(context.Request.Headers[PeerLinkHeaders.Key]))
                {
                    audit.Refused(context);
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                }

                return webSockets.Invoke(context);
            }))
            .WithDisplayName("Herald channel " + pattern);
    }

    private static async Task HandleAsync(HttpContext context, PeerLinkServer server, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var options = server.Options;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
        }).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        await server.RunAsync(socket, context.Request.Headers[PeerLinkHeaders.Node], linked.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// An audit line (category <c>Herald.Audit</c>, Warning) per refused link attempt, with the remote address and
    /// whether a key was presented, never the key; at most 10 per second after a burst of 50, the rest counted.
    /// </summary>
    private sealed partial class RefusalAudit(ILogger logger)
    {
        private readonly Lock _lock = new();
        private double _tokens = 50;
        private long _updated = TimeProvider.System.GetTimestamp();
        private int _suppressed;

        public void Refused(HttpContext context)
        {
            int suppressed;
            lock (_lock)
            {
                var now = TimeProvider.System.GetTimestamp();
                _tokens = Math.Min(50, _tokens + ((double)(now - _updated) / TimeProvider.System.TimestampFrequency * 10));
                _updated = now;
                if (_tokens < 1)
                {
                    _suppressed++;
                    return;
                }

                _tokens -= 1;
                suppressed = _suppressed;
                _suppressed = 0;
            }

            var presented = context.Request.Headers.ContainsKey(PeerLinkHeaders.Key) ? "wrong key" : "no key";
            LogRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "-", presented, suppressed);
        }

        [LoggerMessage(1130, LogLevel.Warning, "Refused a peer link from {RemoteAddress}: {Reason} in the Herald-Key header ({Suppressed} earlier refusals not logged)", EventName = "PeerLinkRefused")]
        private static partial void LogRefused(ILogger logger, string remoteAddress, string reason, int suppressed);
    }
}
