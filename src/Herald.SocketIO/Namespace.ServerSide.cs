using System.Text.Json;

namespace Herald.SocketIO;

public partial class Namespace
{
    private static readonly AckCallback NoAck = static _ => { };

    /// <summary>Receives the events other servers send with <see cref="ServerSideEmit"/>.</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="handler">Called with the event's arguments (on a bus thread).</param>
    /// <returns>This namespace.</returns>
    public Namespace OnServerSideEmit(string eventName, Action<IReadOnlyList<JsonElement>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnServerSideEmit(eventName, (args, _) => handler(args));
    }

    /// <summary>
    /// Receives the events other servers send with <see cref="ServerSideEmit"/> or
    /// <see cref="ServerSideEmitWithAckAsync(string, object?[])"/> (socket.io <c>io.on("ev", (arg, callback) =&gt; ...)</c>):
    /// calling the callback answers the requesting server (only the first call of this server is sent; it does
    /// nothing when the sender asked for no answer).
    /// </summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="handler">Called with the event's arguments and the answer callback (on a bus thread).</param>
    /// <returns>This namespace.</returns>
    public Namespace OnServerSideEmit(string eventName, Action<IReadOnlyList<JsonElement>, AckCallback> handler)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            var copy = new Dictionary<string, Action<IReadOnlyList<JsonElement>, AckCallback>[]>(_serverSideHandlers, StringComparer.Ordinal);
            copy[eventName] = copy.TryGetValue(eventName, out var existing) ? [.. existing, handler] : [handler];
            _serverSideHandlers = copy;
        }

        return this;
    }

    /// <summary>Sends an event to the other servers of the cluster (through the adapter; nobody receives it in memory).</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    public void ServerSideEmit(string eventName, params ReadOnlySpan<object?> args)
    {
        Socket.ThrowIfReserved(eventName);
        Adapter.ServerSideEmit(eventName, args.ToArray());
    }

    /// <summary>
    /// Sends an event to every other server of the cluster and collects one answer per server (socket.io
    /// <c>io.serverSideEmitWithAck</c>). The servers waited for are those the adapter sees alive when the request
    /// leaves; one that goes away meanwhile is no longer waited for. In memory (a single server) the list is empty
    /// at once. Waits at most the adapter's request timeout (<c>ClusterAdapterOptions.RequestTimeout</c>);
    /// <c>Timeout(t).ServerSideEmitWithAckAsync(...)</c> sets another.
    /// </summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments (JSON-serialised; <c>byte[]</c> become binary attachments).</param>
    /// <returns>The answers, one per other server.</returns>
    /// <exception cref="ServerSideEmitTimeoutException">Not every server answered in time; carries the answers that did.</exception>
    public Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, params object?[] args)
    {
        Socket.ThrowIfReserved(eventName);
        return Adapter.ServerSideEmitWithAckAsync(eventName, args ?? [null], null);
    }

    /// <summary>Delivers a server-side event received from another server (called by cluster adapters).</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    public void DeliverServerSideEmit(string eventName, IReadOnlyList<JsonElement> args) => DeliverServerSideEmit(eventName, args, null);

    /// <summary>
    /// Delivers a server-side event received from another server (called by cluster adapters); <paramref name="ack"/>
    /// answers the sender when it asked for answers.
    /// </summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="args">The arguments.</param>
    /// <param name="ack">Answers the sender (null: the sender asked for no answer).</param>
    public void DeliverServerSideEmit(string eventName, IReadOnlyList<JsonElement> args, AckCallback? ack)
    {
        if (_serverSideHandlers.TryGetValue(eventName, out var handlers))
        {
            foreach (var handler in handlers)
            {
                handler(args, ack ?? NoAck);
            }
        }
    }
}
