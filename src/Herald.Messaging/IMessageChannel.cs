using System.Text.Json.Serialization.Metadata;

namespace Herald.Messaging;

/// <summary>
/// The message channel between services (the <c>app.message</c> of SFN): publish a typed message on a
/// topic, and every process subscribed to that topic, this one included, receives it. Messages travel
/// as JSON (web defaults) on the <see cref="IMessageBus"/> channel <c>topic:&lt;topic&gt;</c>, so any
/// system that can publish JSON on the bus (a Redis <c>PUBLISH herald:topic:greeting "\"Hello\""</c>)
/// can take part.
/// </summary>
/// <remarks>Messages are not stored: a process that is not subscribed when a message is published never sees it.</remarks>
public interface IMessageChannel
{
    /// <summary>The name of this process (<c>rpc-server-1</c>).</summary>
    string NodeName { get; }

    /// <summary>Publishes <paramref name="message"/> on <paramref name="topic"/>.</summary>
    /// <param name="topic">The topic (<c>greeting</c>, <c>orders.created</c>).</param>
    /// <param name="message">The message, serialized with System.Text.Json.</param>
    /// <param name="typeInfo">The serialization contract (source-generated); default: from the configured serializer options.</param>
    /// <param name="cancellationToken">Cancels the publication before it is handed to the bus.</param>
    ValueTask PublishAsync<T>(string topic, T message, JsonTypeInfo<T>? typeInfo = null, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="handler"/> with every message published on <paramref name="topic"/>.</summary>
    /// <returns>The subscription: dispose it to stop; await <see cref="MessageSubscription.Ready"/> to know it is in place.</returns>
    MessageSubscription Subscribe<T>(string topic, Func<T, Task> handler, JsonTypeInfo<T>? typeInfo = null);

    /// <summary>Calls <paramref name="handler"/> with every message published on <paramref name="topic"/>.</summary>
    /// <returns>The subscription: dispose it to stop; await <see cref="MessageSubscription.Ready"/> to know it is in place.</returns>
    MessageSubscription Subscribe<T>(string topic, Action<T> handler, JsonTypeInfo<T>? typeInfo = null);

    /// <summary>
    /// Calls <paramref name="handler"/> with the topic and message of every publication on a topic that
    /// matches the glob <paramref name="pattern"/> (<c>orders.*</c>).
    /// </summary>
    MessageSubscription SubscribePattern<T>(string pattern, Func<string, T, Task> handler, JsonTypeInfo<T>? typeInfo = null);

    /// <summary>
    /// Calls <paramref name="handler"/> with the topic and message of every publication on a topic that
    /// matches the glob <paramref name="pattern"/> (<c>orders.*</c>).
    /// </summary>
    MessageSubscription SubscribePattern<T>(string pattern, Action<string, T> handler, JsonTypeInfo<T>? typeInfo = null);
}
