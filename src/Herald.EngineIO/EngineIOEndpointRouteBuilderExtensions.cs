using Herald.EngineIO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Engine.IO endpoints.</summary>
public static class EngineIOEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves Engine.IO at <paramref name="path"/> (for example <c>/engine.io/</c>), handing each session to
    /// <paramref name="handler"/>. Options start from what <c>AddEngineIO</c> configured, then
    /// <paramref name="configure"/>. The server closes its sessions when the application stops.
    /// </summary>
    public static IEndpointConventionBuilder MapEngineIO(this IEndpointRouteBuilder endpoints, string path,
        IEngineConnectionHandler handler, Action<EngineIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handler);
        var services = endpoints.ServiceProvider;
        var options = services.GetService<IOptionsFactory<EngineIOOptions>>()?.Create(Options.DefaultName) ?? new EngineIOOptions();
        configure?.Invoke(options);
        options.Path = path;
        var server = new EngineIOServer(options, handler, services.GetService<ILoggerFactory>());
        return endpoints.MapEngineIO(server);
    }

    /// <summary>Serves an existing <see cref="EngineIOServer"/> at its <see cref="EngineIOOptions.Path"/>.</summary>
    public static IEndpointConventionBuilder MapEngineIO(this IEndpointRouteBuilder endpoints, EngineIOServer server)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(server);
        endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopping
            .Register(static state => ((EngineIOServer)state!).DisposeAsync().AsTask().GetAwaiter().GetResult(), server);

        // Routing ignores a trailing slash, so "/engine.io" serves "/engine.io/?EIO=4..." as well.
        var pattern = server.Options.Path.TrimEnd('/');
        return endpoints.Map(pattern.Length == 0 ? "/" : pattern, server.HandleRequestAsync)
            .WithDisplayName("Engine.IO " + server.Options.Path);
    }
}
