using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Server.Api;

/// <summary>
/// <c>channel</c>, <c>user</c>, <c>all</c>: SocketStream's <c>ss.publish.channel/user/all</c> through the
/// <see cref="Publisher"/>, so sessions on every node (their sockets and EventSources) receive them.
/// </summary>
internal sealed class ChannelPublishCommand(Publisher publisher, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "channel";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        var limits = options.Value.Limits;
        CommandBody.CheckCount(r.Channels?.Length ?? 0, "channels", limits.MaxChannelsPerPublish, "Herald:Limits:MaxChannelsPerPublish");
        var channels = CommandBody.Required(r.Channels, "channels", limits);
        await Run(() => publisher.ChannelAsync(channels, SessionPublishRequest.EventOf(r), CommandBody.Args(r.Args, options.Value.Limits)));
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
internal sealed class UserPublishCommand(Publisher publisher, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "user";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        var users = CommandBody.Required(r.Users, "users", options.Value.Limits);
        await ChannelPublishCommand.Run(() => publisher.UserAsync(users, SessionPublishRequest.EventOf(r), CommandBody.Args(r.Args, options.Value.Limits)));
    }
}

/// <summary><c>all</c>: <c>ss.publish.all</c>, to every session's sockets and EventSources.</summary>
internal sealed class AllPublishCommand(Publisher publisher, IOptions<HubOptions> options) : IHubCommand
{
    public string Name => "all";

    public async ValueTask ExecuteAsync(JsonElement body, CancellationToken cancellationToken)
    {
        var r = CommandBody.Parse(body, HubApiJsonContext.Default.SessionPublishRequest);
        await ChannelPublishCommand.Run(() => publisher.AllAsync(SessionPublishRequest.EventOf(r), CommandBody.Args(r.Args, options.Value.Limits)));
    }
}
