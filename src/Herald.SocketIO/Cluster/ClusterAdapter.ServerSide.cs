using System.Text.Json;
using Herald.Messaging;
using Herald.Protocol.Cluster;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO.Cluster;

public partial class ClusterAdapter
{
    /// <summary>
    /// Publishes one <c>server-side-emit</c> with a <c>requestId</c>; every other node's handlers may answer through
    /// their callback, and each node's first answer comes back as a <c>server-side-emit-response</c> on this node's
    /// channel. Waits for the nodes seen alive when the request left (none: an empty list at once); a node that goes
    /// away meanwhile (heartbeat timeout, <c>node-close</c>) is no longer waited for.
    /// </summary>
    /// <exception cref="MessageBusException">The bus is disconnected, so other nodes cannot be asked.</exception>
    /// <exception cref="ServerSideEmitTimeoutException">Not every node answered within <paramref name="timeout"/>
    /// (default <see cref="ClusterAdapterOptions.RequestTimeout"/>).</exception>
    public override async Task<IReadOnlyList<ServerSideResponse>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout)
    {
        var nodes = Nodes;
        if (nodes.Count == 0)
        {
            return [];
        }

        var wait = timeout ?? _options.RequestTimeout;
        var requestId = NextRequestId();
        using var request = new ServerSideRequest(nodes, _time, wait);
        _requests[requestId] = request;
        try
        {
            var packet = new BroadcastPacket(Namespace.Name, eventName, args, -1, Namespace.Server.JsonOptions);
            var options = new BroadcastOptions([], [], BroadcastFlags.Default with { Timeout = wait });
            if (!Publish(_allChannel, BroadcastEnvelope(ClusterEnvelopeKinds.ServerSideEmit, packet, options, null, requestId)))
            {
                throw new MessageBusException("The message bus is disconnected: the other nodes cannot be asked.");
            }

            return await request.Task.ConfigureAwait(false);
        }
        finally
        {
            _requests.TryRemove(requestId, out _);
        }
    }

    private void DeliverServerSideEmit(ClusterEnvelope envelope)
    {
        using var document = JsonDocument.Parse(envelope.Packet);
        if (!document.RootElement.TryGetProperty("data"u8, out var data) || data.ValueKind != JsonValueKind.Array
            || data.GetArrayLength() == 0 || data[0].ValueKind != JsonValueKind.String)
        {
            throw new JsonException("server-side-emit: packet.data is an array starting with the event name");
        }

        var args = new JsonElement[data.GetArrayLength() - 1];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = data[i + 1].Clone();
        }

        var ack = envelope.RequestId is { } requestId ? new ServerSideAnswer(this, envelope.Source, requestId).Callback : null;
        Namespace.DeliverServerSideEmit(data[0].GetString()!, args, ack);
    }

    /// <summary>This node's answer to one request: only the first call of the callback is published.</summary>
    private sealed class ServerSideAnswer(ClusterAdapter adapter, string requester, string requestId)
    {
        private int _answered;

        public AckCallback Callback => Answer;

        private void Answer(params ReadOnlySpan<object?> args)
        {
            if (Interlocked.Exchange(ref _answered, 1) != 0)
            {
                return;
            }

            // An ACK packet of namespace "/" is "3<id>[...]" (binary: "6<n>-<id>[...]"): its JSON array starts at the first '['.
            var encoded = SocketIOPacketEncoder.EncodeAck("/", 0, args, adapter.Namespace.Server.JsonOptions, enginePrefix: false);
            var text = encoded.Text.AsSpan();
            adapter.Publish(adapter.ChannelOf(requester), new ClusterEnvelope
            {
                Source = adapter.NodeName,
                Target = requester,
                Kind = ClusterEnvelopeKinds.ServerSideEmitResponse,
                Namespace = adapter.Namespace.Name,
                RequestId = requestId,
                Data = ClusterJson.ServerSideResponseData(text[text.IndexOf((byte)'[')..]),
                Attachments = encoded.Attachments,
            });
        }
    }

    /// <summary>The requester's side: one answer per node it waits for.</summary>
    private sealed class ServerSideRequest : PendingRequest, IDisposable
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _waiting;
        private readonly List<ServerSideResponse> _responses = [];
        private readonly TaskCompletionSource<IReadOnlyList<ServerSideResponse>> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ITimer _timer;
        private int _expected;

        public ServerSideRequest(IReadOnlyCollection<string> nodes, TimeProvider time, TimeSpan timeout)
        {
            _waiting = new HashSet<string>(nodes, StringComparer.Ordinal);
            _expected = _waiting.Count;
            _timer = time.CreateTimer(static s => ((ServerSideRequest)s!).OnTimeout(), this, timeout, Timeout.InfiniteTimeSpan);
        }

        public Task<IReadOnlyList<ServerSideResponse>> Task => _tcs.Task;

        public void OnResponse(string node, ServerSideResponse response)
        {
            lock (_lock)
            {
                if (!_waiting.Remove(node))
                {
                    return; // a node that joined after the request left, or a second answer
                }

                _responses.Add(response);
            }

            TryComplete();
        }

        public override void OnNodeGone(string node)
        {
            lock (_lock)
            {
                if (!_waiting.Remove(node))
                {
                    return;
                }

                _expected--;
            }

            TryComplete();
        }

        public override void Fail(Exception error) => _tcs.TrySetException(error);

        public void Dispose() => _timer.Dispose();

        private void TryComplete()
        {
            ServerSideResponse[] result;
            lock (_lock)
            {
                if (_waiting.Count > 0)
                {
                    return;
                }

                result = [.. _responses];
            }

            _tcs.TrySetResult(result);
        }

        private void OnTimeout()
        {
            ServerSideResponse[] partial;
            int expected;
            lock (_lock)
            {
                partial = [.. _responses];
                expected = _expected;
            }

            _tcs.TrySetException(new ServerSideEmitTimeoutException(partial, expected));
        }
    }
}
