using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Herald.Protocol.Cluster;
using Herald.Protocol.SocketIO;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Emitters;

public sealed partial class SocketIOEmitter
{
    /// <summary>
    /// The answers of one namespace: subscribed to <c>sio:{nsp}:{node}/ws</c> (counts and acks addressed to this
    /// emitter) and to <c>sio:{nsp}</c> (heartbeats, to know which nodes to wait for).
    /// </summary>
    internal sealed class AckChannel : IAsyncDisposable
    {
        private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(10);
        private readonly SocketIOEmitter _emitter;
        private readonly ILogger _logger;
        private readonly ConcurrentDictionary<string, long> _nodes = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, AckRequest> _requests = new(StringComparer.Ordinal);
        private readonly string _prefix;
        private IAsyncDisposable? _answers;
        private IAsyncDisposable? _heartbeats;
        private long _ids;

        private AckChannel(SocketIOEmitter emitter, ILogger logger)
        {
            _emitter = emitter;
            _logger = logger;
            Span<byte> random = stackalloc byte[6];
            RandomNumberGenerator.Fill(random);
            _prefix = emitter.SourceName + ":" + Convert.ToHexStringLower(random) + ":";
        }

        public static async Task<AckChannel> OpenAsync(SocketIOEmitter emitter, string ns, ILogger logger)
        {
            var channel = new AckChannel(emitter, logger);
            var prefix = emitter.Options.ChannelPrefix;
            channel._answers = await emitter._bus.SubscribeAsync(SocketIOChannels.ForNode(prefix, ns, emitter.SourceName), channel.OnMessage).ConfigureAwait(false);
            channel._heartbeats = await emitter._bus.SubscribeAsync(SocketIOChannels.ForNamespace(prefix, ns), channel.OnMessage).ConfigureAwait(false);
            return channel;
        }

        public AckRequest Start(string? target, TimeSpan timeout, out string requestId)
        {
            requestId = _prefix + Interlocked.Increment(ref _ids).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var time = _emitter.Options.TimeProvider;
            IEnumerable<string> nodes;
            if (target is not null)
            {
                nodes = [target];
            }
            else
            {
                var alive = new List<string>();
                foreach (var (node, seen) in _nodes)
                {
                    if (time.GetElapsedTime(seen) <= NodeTimeout)
                    {
                        alive.Add(node);
                    }
                }

                nodes = alive;
            }

            var request = new AckRequest(nodes, target is null, time, timeout, _emitter.JsonOptions);
            _requests[requestId] = request;
            return request;
        }

        public void End(string requestId) => _requests.TryRemove(requestId, out _);

        /// <summary>
        /// <c>data</c> of <c>broadcast-client-count</c>: a number, or <c>{"count":n,"nodes":[...]}</c> where <c>nodes</c>
        /// is the answering node's view of the cluster (itself and the nodes it sees alive).
        /// </summary>
        private static int ReadCount(ReadOnlySpan<byte> data, out List<string>? nodes)
        {
            nodes = null;
            var reader = new Utf8JsonReader(data);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return Math.Max(0, reader.GetInt32());
            }

            var count = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("count"u8))
                {
                    reader.Read();
                    count = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("nodes"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw new JsonException("data.nodes is an array of node names");
                    }

                    nodes = [];
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        nodes.Add(reader.GetString()!);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return count < 0 ? throw new JsonException("data.count is missing") : count;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var subscription in new[] { Interlocked.Exchange(ref _answers, null), Interlocked.Exchange(ref _heartbeats, null) })
            {
                if (subscription is not null)
                {
                    await subscription.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        private ValueTask OnMessage(BusMessage message)
        {
            if (!ClusterEnvelopeCodec.TryParse(message.Payload.Span, out var envelope, out var error))
            {
                SocketIOEmitterLog.BadEnvelope(_logger, message.Channel, error);
                return ValueTask.CompletedTask;
            }

            try
            {
                switch (envelope.Kind)
                {
                    case ClusterEnvelopeKinds.Heartbeat:
                        _nodes[envelope.Source] = _emitter.Options.TimeProvider.GetTimestamp();
                        break;
                    case ClusterEnvelopeKinds.NodeClose:
                        _nodes.TryRemove(envelope.Source, out _);
                        foreach (var request in _requests.Values)
                        {
                            request.OnNodeGone(envelope.Source);
                        }

                        break;
                    case ClusterEnvelopeKinds.BroadcastClientCount when envelope.RequestId is not null && envelope.IsFor(_emitter.SourceName):
                        if (_requests.TryGetValue(envelope.RequestId, out var counted))
                        {
                            var count = ReadCount(envelope.Data.Span, out var nodes);
                            counted.OnCount(envelope.Source, count, nodes);
                        }

                        break;
                    case ClusterEnvelopeKinds.BroadcastAckResponse when envelope.RequestId is not null && envelope.IsFor(_emitter.SourceName):
                        if (_requests.TryGetValue(envelope.RequestId, out var acked))
                        {
                            acked.OnAck(envelope.Source, envelope.Data, envelope.Attachments);
                        }

                        break;
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                SocketIOEmitterLog.BadEnvelope(_logger, message.Channel, e.Message);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>One <c>EmitWithAckAsync</c>: per node, its count then that many answers.</summary>
    internal sealed class AckRequest : IDisposable
    {
        private const int CountNotYetKnown = -1;
        private readonly Lock _lock = new();
        private readonly Dictionary<string, int> _owed = new(StringComparer.Ordinal);
        private readonly List<SocketIOEmitterAckResponse> _responses = [];
        private readonly TaskCompletionSource<IReadOnlyList<SocketIOEmitterAckResponse>> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly bool _acceptOtherNodes;
        private readonly JsonSerializerOptions _json;
        private readonly ITimer _timer;

        public AckRequest(IEnumerable<string> nodes, bool acceptOtherNodes, TimeProvider time, TimeSpan timeout, JsonSerializerOptions json)
        {
            foreach (var node in nodes)
            {
                _owed[node] = CountNotYetKnown;
            }

            _acceptOtherNodes = acceptOtherNodes;
            _json = json;
            _timer = time.CreateTimer(static s => ((AckRequest)s!).OnTimeout(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }

        public Task<IReadOnlyList<SocketIOEmitterAckResponse>> Task => _tcs.Task;

        public void OnCount(string node, int count, List<string>? cluster)
        {
            lock (_lock)
            {
                var known = _owed.TryGetValue(node, out var owed);
                if ((!known && !_acceptOtherNodes) || (known && owed != CountNotYetKnown))
                {
                    return;
                }

                _owed[node] = count;
                if (_acceptOtherNodes && cluster is not null)
                {
                    // The answering node's view of the cluster: an emitter that has not heard every node's heartbeat
                    // yet (its first request) must not complete before the nodes it did not know of have answered.
                    foreach (var other in cluster)
                    {
                        _owed.TryAdd(other, CountNotYetKnown);
                    }
                }
            }

            TryComplete(timedOut: false);
        }

        /// <summary>A node said it is leaving: it no longer owes anything.</summary>
        public void OnNodeGone(string node)
        {
            lock (_lock)
            {
                if (!_owed.Remove(node))
                {
                    return;
                }
            }

            TryComplete(timedOut: false);
        }

        public void OnAck(string node, ReadOnlyMemory<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            var missing = root.TryGetProperty("missing"u8, out var m) && m.ValueKind == JsonValueKind.True;
            lock (_lock)
            {
                if (!_owed.TryGetValue(node, out var owed) || owed <= 0)
                {
                    return;
                }

                _owed[node] = owed - 1;
                if (!missing)
                {
                    var args = root.TryGetProperty("args"u8, out var a) && a.ValueKind == JsonValueKind.Array ? a.Clone() : default;
                    _responses.Add(new SocketIOEmitterAckResponse(node, root.GetProperty("socketId"u8).GetString() ?? string.Empty, args, ClusterSocketIOPacket.ToArray(attachments), _json));
                }
            }

            TryComplete(timedOut: false);
        }

        public void Dispose() => _timer.Dispose();

        private void OnTimeout() => TryComplete(timedOut: true);

        private void TryComplete(bool timedOut)
        {
            SocketIOEmitterAckResponse[] responses;
            var complete = true;
            lock (_lock)
            {
                foreach (var owed in _owed.Values)
                {
                    complete &= owed == 0;
                }

                if (!timedOut && (!complete || _owed.Count == 0))
                {
                    return;
                }

                responses = [.. _responses];
            }

            _timer.Dispose();
            if (complete)
            {
                _tcs.TrySetResult(responses);
            }
            else
            {
                _tcs.TrySetException(new SocketIOEmitterAckTimeoutException(responses));
            }
        }
    }
}

/// <summary>One client's acknowledgement received by <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/>.</summary>
public sealed class SocketIOEmitterAckResponse
{
    private readonly JsonSerializerOptions _json;

    internal SocketIOEmitterAckResponse(string node, string socketId, JsonElement args, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions json)
    {
        Node = node;
        SocketId = socketId;
        var list = new JsonElement[args.ValueKind == JsonValueKind.Array ? args.GetArrayLength() : 0];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = args[i];
        }

        Args = list;
        Attachments = attachments;
        _json = json;
    }

    /// <summary>The node that holds the client.</summary>
    public string Node { get; }

    /// <summary>The socket id of the client.</summary>
    public string SocketId { get; }

    /// <summary>The acknowledgement's arguments as JSON (binary placeholders left as they are).</summary>
    public IReadOnlyList<JsonElement> Args { get; }

    /// <summary>Its binary attachments.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>Binds argument <paramref name="index"/> (binary placeholders resolved); default when absent.</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="index">The argument index.</param>
    /// <returns>The value.</returns>
    public T? Get<T>(int index = 0)
        => (uint)index < (uint)Args.Count ? SocketIOJson.Deserialize<T>(Args[index], Attachments, _json) : default;
}

/// <summary>Not every node or client answered an <see cref="SocketIOEmitterOperator.EmitWithAckAsync"/> in time.</summary>
public sealed class SocketIOEmitterAckTimeoutException : TimeoutException
{
    /// <summary>Creates the exception with the answers that did arrive.</summary>
    /// <param name="responses">The answers received in time.</param>
    public SocketIOEmitterAckTimeoutException(IReadOnlyList<SocketIOEmitterAckResponse> responses)
        : base($"Acknowledgements timed out; {responses.Count} arrived in time.")
    {
        Responses = responses;
    }

    /// <summary>The answers received in time.</summary>
    public IReadOnlyList<SocketIOEmitterAckResponse> Responses { get; }
}

internal static partial class SocketIOEmitterLog
{
    [LoggerMessage(60, LogLevel.Warning, "Socket.IO emitter: dropped a bad envelope from bus channel '{Channel}': {Reason}", EventName = "SocketIOEmitterBadEnvelope")]
    public static partial void BadEnvelope(ILogger logger, string channel, string reason);
}
