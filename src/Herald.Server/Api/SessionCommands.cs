using System.Text.Json;
using Herald.Messaging.Publish;

namespace Herald.Server.Api;

/// <summary>
/// <c>channel</c>, <c>user</c>, <c>all</c>: SocketStream's <c>ss.publish.channel/user/all</c> through the
/// <see cref="Publisher"/>, so sessions on every node (their sockets and EventSources) receive them.
/// </summary>
internal sealed class ChannelPublishCommand(Publisher publisher) : IHubCommand
{
    public string Name => "channel";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        var channels = CommandBody.Required(r.Channels, "channels");
        await Run(() => publisher.ChannelAsync(channels, SessionPublishRequest.EventOf(r), SessionPublishRequest.ArgsOf(r)));
    }

    internal static async ValueTask Run(Func<ValueTask> publish)
    {
        try
        {
            await publish();
        }
        catch (ArgumentException e)
        {
            throw new HubCommandException(e.Message, e);
        }
    }
}

/// <summary><c>user</c>: <c>ss.publish.user</c>, to every signed-in session of the users.</summary>
internal sealed class UserPublishCommand(Publisher publisher) : IHubCommand
{
    public string Name => "user";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        var users = CommandBody.Required(r.Users, "users");
        await ChannelPublishCommand.Run(() => publisher.UserAsync(users, SessionPublishRequest.EventOf(r), SessionPublishRequest.ArgsOf(r)));
    }
}

/// <summary><c>all</c>: <c>ss.publish.all</c>, to every session's sockets and EventSources.</summary>
internal sealed class AllPublishCommand(Publisher publisher) : IHubCommand
{
    public string Name => "all";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        await ChannelPublishCommand.Run(() => publisher.AllAsync(SessionPublishRequest.EventOf(r), SessionPublishRequest.ArgsOf(r)));
    }
}
