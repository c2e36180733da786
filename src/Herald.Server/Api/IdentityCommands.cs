using System.Text.Json;
using Herald.Identity;

namespace Herald.Server.Api;

/// <summary>
/// The server API on a user's connections, on every node (docs/identity.md):
/// <c>user-subscribe</c> / <c>user-unsubscribe</c> <c>{"users":["42"],"channels":["a"]}</c>,
/// <c>user-signout</c> and <c>user-disconnect</c> <c>{"users":["42"]}</c>. Registered when <c>Herald:Identity</c> is configured.
/// </summary>
internal abstract class UserCommandBase(HeraldIdentityManager identity, UserCommand command) : IHubCommand
{
    public abstract string Name { get; }

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var users = Names(body, "users", required: true);
        var channels = command is UserCommand.Subscribe or UserCommand.Unsubscribe ? Names(body, "channels", required: true) : [];
        try
        {
            await identity.RunAsync(command, users, channels, cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new HubCommandException(e.Message, e);
        }
    }

    private static string[] Names(JsonElement body, string property, bool required)
    {
        if (!body.TryGetProperty(property, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return required ? throw new HubCommandException($"'{property}' must be an array of strings.") : [];
        }

        if (list.GetArrayLength() > HeraldIdentityManager.MaxNamesPerCommand)
        {
            throw new HubCommandException($"'{property}' may name at most {HeraldIdentityManager.MaxNamesPerCommand}.");
        }

        var names = new string[list.GetArrayLength()];
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            names[i++] = item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new HubCommandException($"'{property}' must be an array of strings.");
        }

        return names;
    }
}

/// <summary><c>user-subscribe</c>: the users' connections join channels, on every node.</summary>
internal sealed class UserSubscribeCommand(HeraldIdentityManager identity) : UserCommandBase(identity, UserCommand.Subscribe)
{
    public override string Name => "user-subscribe";
}

/// <summary><c>user-unsubscribe</c>: the users' connections leave channels, on every node.</summary>
internal sealed class UserUnsubscribeCommand(HeraldIdentityManager identity) : UserCommandBase(identity, UserCommand.Unsubscribe)
{
    public override string Name => "user-unsubscribe";
}

/// <summary><c>user-signout</c>: user-addressed messages stop reaching the users' connections, on every node.</summary>
internal sealed class UserSignOutCommand(HeraldIdentityManager identity) : UserCommandBase(identity, UserCommand.SignOut)
{
    public override string Name => "user-signout";
}

/// <summary><c>user-disconnect</c>: the users' sockets are disconnected and EventSources closed, on every node.</summary>
internal sealed class UserDisconnectCommand(HeraldIdentityManager identity) : UserCommandBase(identity, UserCommand.Disconnect)
{
    public override string Name => "user-disconnect";
}
