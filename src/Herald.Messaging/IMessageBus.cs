namespace Herald.Messaging;

/// <summary>
/// Carries opaque byte messages between the processes of a Herald cluster: the transport under the
/// message channel, the Socket.IO cluster adapter and SSE. Implementations: <see cref="InMemoryMessageBus"/>
/// (one process), the Redis bus (PUBLISH/SUBSCRIBE/PSUBSCRIBE), a peer link.
/// </summary>
/// <remarks>
/// <para>Channels are logical names (<c>topic:greeting</c>); an implementation may prefix them on its wire
/// (Redis: <c>herald:topic:greeting</c>). Patterns use the Redis glob syntax: <c>*</c> any run of
/// characters (dots included), <c>?</c> one character, <c>[abc]</c>, <c>[^a]</c>, <c>[a-z]</c>, <c>\</c>
/// escapes.</para>
/// <para>A publication is handed to the bus once, whatever the number of receivers: the bus delivers it
/// to every subscription in every process (this one included), and a process receiving it hands the same
/// bytes to all of its local handlers of that channel.</para>
/// <para>Delivery contract: messages from one publisher on one channel arrive in publication order.
/// A handler's <see cref="BusMessage.Payload"/> is only valid until the task it returns completes: copy
/// it to keep it. Handlers of one subscription are never run concurrently with themselves; a handler
/// that throws is logged and does not affect other handlers or the bus. Handlers should be quick: a
/// slow handler delays the following messages of its process.</para>
/// </remarks>
public interface IMessageBus : IAsyncDisposable
{
    /// <summary>The name of this process (<c>web-server-1</c>).</summary>
    string NodeName { get; }

    /// <summary>The connection state; an in-process bus is always <see cref="MessageBusState.Connected"/> until disposed.</summary>
    MessageBusState State { get; }

    /// <summary>
    /// Raised when <see cref="State"/> changes. After a reconnection it is raised with
    /// <see cref="MessageBusState.Connected"/> once every subscription has been restored.
    /// </summary>
    event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Publishes <paramref name="payload"/> on <paramref name="channel"/>. The bus does not keep the
    /// memory after the returned task completes.
    /// </summary>
    /// <exception cref="MessageBusException">The bus cannot carry the message now (disconnected, disposed).</exception>
    ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to the exact channel <paramref name="channel"/>. The returned
    /// task completes once messages published from now on are received; dispose the result to unsubscribe.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to every channel matching the glob <paramref name="pattern"/>
    /// (<c>orders.*</c>). The returned task completes once messages published from now on are received;
    /// dispose the result to unsubscribe.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default);
}

/// <summary>Handles one message received from an <see cref="IMessageBus"/>.</summary>
/// <param name="message">The message; its payload is valid until the returned task completes.</param>
public delegate ValueTask BusMessageHandler(BusMessage message);

/// <summary>One message received from an <see cref="IMessageBus"/>.</summary>
/// <param name="channel">The logical channel it was published on.</param>
/// <param name="pattern">The pattern that matched, for a pattern subscription; otherwise null.</param>
/// <param name="payload">The bytes, valid until the handler's task completes.</param>
public readonly struct BusMessage(string channel, string? pattern, ReadOnlyMemory<byte> payload)
{
    /// <summary>The logical channel the message was published on.</summary>
    public string Channel { get; } = channel;

    /// <summary>The pattern that matched, for a pattern subscription; otherwise null.</summary>
    public string? Pattern { get; } = pattern;

    /// <summary>The published bytes; only valid until the handler's task completes.</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;
}

/// <summary>The connection state of an <see cref="IMessageBus"/>.</summary>
public enum MessageBusState
{
    /// <summary>Connecting for the first time; publications wait for the connection (up to a timeout).</summary>
    Connecting,

    /// <summary>Connected, subscriptions in place.</summary>
    Connected,

    /// <summary>The connection was lost; the bus is reconnecting with backoff and will restore subscriptions.</summary>
    Disconnected,

    /// <summary>Disposed; nothing is delivered any more.</summary>
    Disposed,
}

/// <summary>The arguments of <see cref="IMessageBus.StateChanged"/>.</summary>
/// <param name="previous">The state before.</param>
/// <param name="current">The state now.</param>
/// <param name="error">Why the connection was lost, when it was.</param>
public sealed class MessageBusStateChangedEventArgs(MessageBusState previous, MessageBusState current, Exception? error) : EventArgs
{
    /// <summary>The state before.</summary>
    public MessageBusState Previous { get; } = previous;

    /// <summary>The state now.</summary>
    public MessageBusState Current { get; } = current;

    /// <summary>Why the connection was lost, when it was.</summary>
    public Exception? Error { get; } = error;
}

/// <summary>The bus could not carry out an operation (disconnected, disposed, server error).</summary>
public class MessageBusException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessageBusException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MessageBusException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public MessageBusException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A bus that keeps (boundedly) what is published while it is disconnected and sends it once connected again, so
/// publishers may go on calling <see cref="IMessageBus.PublishAsync"/> during an outage instead of skipping it.
/// </summary>
public interface IBufferingMessageBus : IMessageBus
{
    /// <summary>True when <see cref="IMessageBus.PublishAsync"/> buffers publications made while disconnected.</summary>
    bool BuffersWhileDisconnected { get; }
}
