using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Messaging;

/// <summary>Options of the message channel and of the in-process bus (<c>services.AddHeraldMessaging(o =&gt; ...)</c>).</summary>
public sealed class HeraldMessagingOptions
{
    /// <summary>
    /// The name of this process in the cluster (<c>web-server-1</c>). Default: the machine name plus a
    /// random suffix, see <see cref="HeraldNode.CreateDefaultName"/>.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// The prefix of the bus channels that carry message-channel topics: topic <c>greeting</c> travels on
    /// bus channel <c>topic:greeting</c> (on Redis, <c>herald:topic:greeting</c>). Must not contain the
    /// pattern characters <c>*?[]\</c>.
    /// </summary>
    public string TopicChannelPrefix { get; set; } = "topic:";

    /// <summary>
    /// How topic messages are serialized: web defaults (camelCase, case-insensitive reads). To stay
    /// trimming/AOT friendly, insert a source-generated context:
    /// <c>o.SerializerOptions.TypeInfoResolverChain.Insert(0, MyJsonContext.Default)</c>.
    /// </summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The largest topic message accepted for publishing, in bytes (default 1 MiB).</summary>
    public int MaxMessageSize { get; set; } = 1024 * 1024;
}
