using Herald.EngineIO;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Engine.IO defaults.</summary>
public static class EngineIOServiceCollectionExtensions
{
    /// <summary>Configures the default <see cref="EngineIOOptions"/> that every <c>MapEngineIO</c> starts from.</summary>
    public static IServiceCollection AddEngineIO(this IServiceCollection services, Action<EngineIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<EngineIOOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return services;
    }
}
