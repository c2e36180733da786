using Herald.SocketIO;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Socket.IO server.</summary>
public static class SocketIOServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SocketIOServer"/> as a singleton configured by <paramref name="configure"/>
    /// (Engine.IO settings under <see cref="SocketIOOptions.Engine"/>); serve it with <c>app.MapSocketIO()</c>.
    /// </summary>
    public static IServiceCollection AddSocketIO(this IServiceCollection services, Action<SocketIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<SocketIOOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton(static sp => new SocketIOServer(sp.GetRequiredService<IOptions<SocketIOOptions>>().Value, sp.GetService<ILoggerFactory>()));
        return services;
    }
}
