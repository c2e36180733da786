using Herald.Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Herald message channel.</summary>
public static class HeraldMessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HeraldNode"/>, the in-memory <see cref="IMessageBus"/> (unless another bus is
    /// registered, e.g. by <c>AddHeraldRedis</c>), <see cref="IMessageChannel"/> and the Socket.IO push facade <see cref="Herald.Messaging.Ws.WsEmitter"/>. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddHeraldMessaging(this IServiceCollection services, Action<HeraldMessagingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<HeraldMessagingOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(sp =>
        {
            var name = sp.GetRequiredService<IOptions<HeraldMessagingOptions>>().Value.NodeName;
            return new HeraldNode(string.IsNullOrEmpty(name) ? HeraldNode.CreateDefaultName() : name);
        });
        services.TryAddSingleton<IMessageBus, InMemoryMessageBus>();
        services.TryAddSingleton<IMessageChannel, MessageChannel>();
        services.TryAddSingleton<Herald.Messaging.Ws.WsEmitter>();
        return services;
    }
}
