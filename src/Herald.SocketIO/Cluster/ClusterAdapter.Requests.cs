using Herald.Messaging;
using Herald.Protocol.Cluster;

namespace Herald.SocketIO.Cluster;

public partial class ClusterAdapter
{
    /// <summary>
    /// Local sockets, plus the answers of every node seen alive when the request left. A node that goes away
    /// while the request waits (heartbeat timeout, <c>node-close</c>) is no longer waited for; a node that
    /// does not answer within <see cref="ClusterAdapterOptions.RequestTimeout"/> makes it throw <see cref="TimeoutException"/>.
    /// </summary>
    /// <exception cref="MessageBusException">The bus is disconnected, so other nodes cannot be asked.</exception>
    public override async ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        var local = await base.FetchSocketsAsync(options).ConfigureAwait(false);
        var nodes = Nodes;
        if (options.Flags.Local || nodes.Count == 0)
        {
            return local;
        }

        var requestId = NextRequestId();
        using var request = new FetchRequest(nodes, _time, _options.RequestTimeout);
        _requests[requestId] = request;
        try
        {
            var sent = Publish(_allChannel, new ClusterEnvelope
            {
                Source = NodeName,
                Kind = ClusterEnvelopeKinds.FetchSockets,
                Namespace = Namespace.Name,
                Rooms = options.Rooms,
                Except = options.Except,
                RequestId = requestId,
            });
            if (!sent)
            {
                throw new MessageBusException("The message bus is disconnected: the sockets of other nodes cannot be fetched.");
            }

            var remote = await request.Task.ConfigureAwait(false);
            return [.. local, .. remote];
        }
        finally
        {
            _requests.TryRemove(requestId, out _);
        }
    }

    /// <summary>
    /// Delivers locally and to every node seen alive; each node answers with its client count, then with each
    /// client's ack. Until a node's count arrives it counts as one pending answer, so the broadcast does not
    /// complete early; a node that goes away settles what it still owed. With a timeout, the partial answers
    /// are in the <see cref="BroadcastTimeoutException"/> (its <c>Expected</c> also counts one per remote node that had no target or never sent its count).
    /// </summary>
    public override void BroadcastWithAck(BroadcastPacket packet, BroadcastOptions options, Action<int> clientCountCallback, Action<AckResponse> ack)
    {
        ArgumentNullException.ThrowIfNull(clientCountCallback);
        ArgumentNullException.ThrowIfNull(ack);
        var nodes = Nodes;
        if (options.Flags.Local || nodes.Count == 0 || _bus.State is not MessageBusState.Connected)
        {
            base.BroadcastWithAck(packet, options, clientCountCallback, ack);
            return;
        }

        var requestId = NextRequestId();
        var request = new AckRequest(this, requestId, nodes, clientCountCallback, ack);
        _requests[requestId] = request;
        clientCountCallback(nodes.Count);
        base.BroadcastWithAck(packet, options, clientCountCallback, ack);
        if (!Publish(_allChannel, BroadcastEnvelope(ClusterEnvelopeKinds.BroadcastWithAck, packet, options, null, requestId)))
        {
            request.Abandon();
            return;
        }

        if (options.Flags.Timeout is { } timeout)
        {
            // The caller's collector times out by itself; this only forgets the request.
            request.ForgetAfter(_time, timeout);
        }
    }

    internal void Forget(string requestId) => _requests.TryRemove(requestId, out _);

    /// <summary>A request waiting for answers from a set of nodes.</summary>
    private abstract class PendingRequest
    {
        public abstract void OnNodeGone(string node);

        public abstract void Fail(Exception error);
    }

    private sealed class FetchRequest : PendingRequest, IDisposable
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _waiting;
        private readonly List<RemoteSocket> _sockets = [];
        private readonly TaskCompletionSource<IReadOnlyList<RemoteSocket>> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ITimer _timer;
        private readonly TimeSpan _timeout;

        public FetchRequest(IReadOnlyCollection<string> nodes, TimeProvider time, TimeSpan timeout)
        {
            _waiting = new HashSet<string>(nodes, StringComparer.Ordinal);
            _timeout = timeout;
            _timer = time.CreateTimer(static s => ((FetchRequest)s!).OnTimeout(), this, timeout, Timeout.InfiniteTimeSpan);
        }

        public Task<IReadOnlyList<RemoteSocket>> Task => _tcs.Task;

        public void OnResponse(string node, IReadOnlyList<RemoteSocket> sockets)
        {
            lock (_lock)
            {
                if (!_waiting.Remove(node))
                {
                    return; // a node that joined after the request left, or a duplicate
                }

                _sockets.AddRange(sockets);
            }

            TryComplete();
        }

        public override void OnNodeGone(string node)
        {
            lock (_lock)
            {
                _waiting.Remove(node);
            }

            TryComplete();
        }

        public override void Fail(Exception error) => _tcs.TrySetException(error);

        public void Dispose() => _timer.Dispose();

        private void TryComplete()
        {
            RemoteSocket[] result;
            lock (_lock)
            {
                if (_waiting.Count > 0)
                {
                    return;
                }

                result = [.. _sockets];
            }

            _tcs.TrySetResult(result);
        }

        private void OnTimeout()
        {
            string missing;
            lock (_lock)
            {
                missing = string.Join(", ", _waiting);
            }

            _tcs.TrySetException(new TimeoutException($"fetchSockets: no answer from {missing} within {_timeout.TotalMilliseconds} ms."));
        }
    }

    /// <summary>The requester's side of a broadcast with acks: per node, a count then that many answers.</summary>
    private sealed class AckRequest : PendingRequest
    {
        private const int CountNotYetKnown = -1;
        private readonly Lock _lock = new();
        private readonly ClusterAdapter _adapter;
        private readonly string _requestId;
        private readonly Dictionary<string, int> _owed; // node -> acks still owed, or CountNotYetKnown
        private readonly Action<int> _count;
        private readonly Action<AckResponse> _ack;
        private ITimer? _timer;

        public AckRequest(ClusterAdapter adapter, string requestId, IReadOnlyCollection<string> nodes, Action<int> count, Action<AckResponse> ack)
        {
            _adapter = adapter;
            _requestId = requestId;
            _owed = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var node in nodes)
            {
                _owed[node] = CountNotYetKnown;
            }

            _count = count;
            _ack = ack;
        }

        public void OnCount(string node, int count)
        {
            lock (_lock)
            {
                if (!_owed.TryGetValue(node, out var owed) || owed != CountNotYetKnown)
                {
                    return;
                }

                _owed[node] = count;
            }

            // The node's placeholder becomes one of its answers (the total never dips to "done"); a node
            // without clients settles it instead.
            if (count > 0)
            {
                _count(count - 1);
            }
            else
            {
                _ack(AckResponse.Missing(node));
            }

            CheckDone();
        }

        public void OnAck(string node, AckResponse response)
        {
            lock (_lock)
            {
                if (!_owed.TryGetValue(node, out var owed) || owed <= 0)
                {
                    return;
                }

                _owed[node] = owed - 1;
            }

            _ack(response);
            CheckDone();
        }

        public override void OnNodeGone(string node)
        {
            int owed;
            lock (_lock)
            {
                if (!_owed.Remove(node, out owed))
                {
                    return;
                }
            }

            // Settle the placeholder (count never came) or every answer still owed.
            for (var i = owed == CountNotYetKnown ? 1 : owed; i > 0; i--)
            {
                _ack(AckResponse.Missing(node));
            }

            CheckDone();
        }

        public override void Fail(Exception error) => Abandon();

        /// <summary>Settles everything still owed (the bus could not carry the request, or the adapter closed).</summary>
        public void Abandon()
        {
            string[] nodes;
            lock (_lock)
            {
                nodes = [.. _owed.Keys];
            }

            foreach (var node in nodes)
            {
                OnNodeGone(node);
            }
        }

        public void ForgetAfter(TimeProvider time, TimeSpan timeout)
        {
            _timer = time.CreateTimer(static s => ((AckRequest)s!).Forget(), this, timeout, Timeout.InfiniteTimeSpan);
        }

        private void Forget()
        {
            _timer?.Dispose();
            _adapter.Forget(_requestId);
        }

        private void CheckDone()
        {
            lock (_lock)
            {
                foreach (var owed in _owed.Values)
                {
                    if (owed != 0)
                    {
                        return;
                    }
                }
            }

            Forget();
        }
    }
}
