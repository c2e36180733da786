using Herald.EngineIO;
using Herald.SocketIO;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Socket.IO endpoint.</summary>
public static class SocketIOEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves Socket.IO at <paramref name="path"/> (default: <see cref="SocketIOOptions.Engine"/>'s path,
    /// <c>/socket.io/</c>) with the <see cref="SocketIOServer"/> registered by <c>AddSocketIO</c> (or a new
    /// one with default options), and returns that server. <paramref name="configureEndpoint"/> receives the
    /// endpoint builder, for conventions such as <c>RequireAuthorization()</c> (the user then appears in
    /// <see cref="Handshake.User"/>). With <see cref="SocketIOOptions.ServeClient"/> (the default) the browser client
    /// is served next to it, for example <c>/socket.io/socket.io.min.js</c>.
    /// </summary>
    public static SocketIOServer MapSocketIO(this IEndpointRouteBuilder endpoints, string? path = null,
        Action<IEndpointConventionBuilder>? configureEndpoint = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var io = services.GetService<SocketIOServer>() ?? new SocketIOServer(new SocketIOOptions(), services.GetService<ILoggerFactory>());
        var engine = io.Options.Engine;
        if (path is not null)
        {
            engine.Path = path;
        }

        var server = new EngineIOServer(engine, io, services.GetService<ILoggerFactory>());
        var endpoint = endpoints.MapEngineIO(server);
        configureEndpoint?.Invoke(endpoint);
        if (io.Options.ServeClient)
        {
            // Node's serveClient: the browser bundle next to the endpoint (no authorization: it is public code).
            var prefix = engine.Path.TrimEnd('/');
            foreach (var file in Herald.SocketIO.Internal.ClientBundle.Files)
            {
                endpoints.MapMethods(prefix + "/" + file, [HttpMethods.Get, HttpMethods.Head], context => Herald.SocketIO.Internal.ClientBundle.ServeAsync(context, file))
                    .WithDisplayName("Socket.IO client " + file);
            }
        }

        return io;
    }
}
