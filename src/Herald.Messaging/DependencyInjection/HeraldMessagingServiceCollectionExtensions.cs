using Herald.Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Herald message channel.</summary>
public static class HeraldMessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HeraldNode"/>, the in-memory <see cref="IMessageBus"/> (unless another bus is
    /// registered, e.g. by <c>AddHeraldRedis</c>), <see cref="IMessageChannel"/> and the push emitters <see cref="Herald.Messaging.Emitters.SocketIOEmitter"/> and <see cref="Herald.Messaging.Emitters.SseEmitter"/>. Safe to call more than once.
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
        services.TryAddSingleton<Herald.Messaging.Emitters.SocketIOEmitter>();
        services.TryAddSingleton<Herald.Messaging.Emitters.SseEmitter>();
        return services;
    }
}
