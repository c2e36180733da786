using System.Text.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald.Server.Api;

/// <summary>
/// One command of the HTTP publish API: <c>POST /api/{Name}</c> with a JSON body, or an element
/// <c>{"type": Name, ...}</c> of <c>POST /api/batch</c>. Built in: <c>emit</c>, <c>sse</c>, <c>sse-close</c>,
/// <c>publish</c>, <c>disconnect</c>, <c>sockets-join</c>, <c>sockets-leave</c>. Register more with
/// <see cref="HubCommandServiceCollectionExtensions.AddHubCommand{T}"/> (channels and users publishing plug in here).
/// </summary>
public interface IHubCommand
{
    /// <summary>The command name, used in the route and as the batch <c>type</c> (lower-case, <c>a-z0-9-</c>).</summary>
    string Name { get; }

    /// <summary>Runs the command.</summary>
    /// <param name="body">The JSON body (an object; in a batch, the element, <c>type</c> included).</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    /// <returns>A task completing when the publication was handed to the bus.</returns>
    /// <exception cref="HubCommandException">The body is invalid (answered 400 with the message).</exception>
    ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken);
}

/// <summary>A command's body is invalid; the message is returned to the caller with status 400.</summary>
public sealed class HubCommandException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubCommandException()
    {
    }

    /// <summary>Creates the exception with the message returned to the caller.</summary>
    /// <param name="message">What is wrong with the body.</param>
    public HubCommandException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What is wrong with the body.</param>
    /// <param name="innerException">The cause.</param>
    public HubCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Registers publish API commands.</summary>
public static class HubCommandServiceCollectionExtensions
{
    /// <summary>Adds a command to the publish API (<c>POST /api/{name}</c> and batch type <c>name</c>).</summary>
    /// <typeparam name="T">The command type (a singleton).</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHubCommand<T>(this IServiceCollection services)
        where T : class, IHubCommand
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHubCommand, T>());
        return services;
    }

    internal static IServiceCollection AddHubCommands(this IServiceCollection services)
    {
        services.AddHubCommand<EmitCommand>();
        services.AddHubCommand<SseSendCommand>();
        services.AddHubCommand<SseCloseCommand>();
        services.AddHubCommand<TopicPublishCommand>();
        services.AddHubCommand<DisconnectCommand>();
        services.AddHubCommand<SocketsJoinCommand>();
        services.AddHubCommand<SocketsLeaveCommand>();
        services.AddHubCommand<ChannelPublishCommand>();
        services.AddHubCommand<UserPublishCommand>();
        services.AddHubCommand<AllPublishCommand>();
        services.TryAddSingleton<HubCommandRegistry>();
        return services;
    }
}

/// <summary>The registered commands by name.</summary>
internal sealed class HubCommandRegistry
{
    private readonly Dictionary<string, IHubCommand> _commands = new(StringComparer.Ordinal);

    public HubCommandRegistry(IEnumerable<IHubCommand> commands)
    {
        foreach (var command in commands)
        {
            if (!_commands.TryAdd(command.Name, command))
            {
                throw new InvalidOperationException($"Two publish API commands are named '{command.Name}'.");
            }
        }
    }

    public IEnumerable<string> Names => _commands.Keys.Order(StringComparer.Ordinal);

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IHubCommand? command) => _commands.TryGetValue(name, out command);
}
