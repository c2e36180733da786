using System.Text.Json;
using Herald.Messaging;
using Herald.Protocol.Cluster;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO.Cluster;

public partial class ClusterAdapter
{
    private ValueTask OnMessage(BusMessage message)
    {
        if (!ClusterEnvelopeCodec.TryParse(message.Payload.Span, out var envelope, out var error, _options.Limits))
        {
            ClusterAdapterLog.BadEnvelope(_logger, Namespace.Name, message.Channel, error);
            return ValueTask.CompletedTask;
        }

        // Own publications come back from the bus: this node acted on them before publishing. Emitters running
        // on this node publish under another source name ("<node>/ws"), so they are delivered here too.
        // With recovery, this node's recoverable broadcasts are delivered here when they come back (bus order).
        if ((string.Equals(envelope.Source, NodeName, StringComparison.Ordinal)
                && (Recovery is null || !string.Equals(envelope.Kind, ClusterEnvelopeKinds.Broadcast, StringComparison.Ordinal)))
            || !envelope.IsFor(NodeName)
            || !string.Equals(envelope.Namespace, Namespace.Name, StringComparison.Ordinal))
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            Handle(envelope, message.Channel);
        }
        catch (Exception e)
        {
            ClusterAdapterLog.HandlerFailed(_logger, Namespace.Name, envelope.Kind, envelope.Source, e);
        }

        return ValueTask.CompletedTask;
    }

    private void Handle(ClusterEnvelope envelope, string channel)
    {
        switch (envelope.Kind)
        {
            case ClusterEnvelopeKinds.Broadcast:
                if (!TryDeliverRecoverable(envelope, channel) && !string.Equals(envelope.Source, NodeName, StringComparison.Ordinal))
                {
                    DeliverBroadcast(envelope, channel);
                }

                break;
            case ClusterEnvelopeKinds.Session:
                OnSessionEnvelope(envelope);
                break;
            case ClusterEnvelopeKinds.BroadcastWithAck:
                DeliverBroadcastWithAck(envelope, channel);
                break;
            case ClusterEnvelopeKinds.BroadcastClientCount:
                if (envelope.RequestId is not null && _requests.TryGetValue(envelope.RequestId, out var counted) && counted is AckRequest countRequest)
                {
                    countRequest.OnCount(envelope.Source, ClusterJson.ReadCount(envelope.Data.Span));
                }

                break;
            case ClusterEnvelopeKinds.BroadcastAckResponse:
                if (envelope.RequestId is not null && _requests.TryGetValue(envelope.RequestId, out var acked) && acked is AckRequest ackRequest)
                {
                    ackRequest.OnAck(envelope.Source, ClusterJson.ReadAck(envelope.Data.Span, envelope.Attachments, Namespace.Server.JsonOptions));
                }

                break;
            case ClusterEnvelopeKinds.SocketsJoin:
                base.AddSockets(OptionsOf(envelope), ClusterJson.ReadRooms(envelope.Data.Span));
                break;
            case ClusterEnvelopeKinds.SocketsLeave:
                base.DelSockets(OptionsOf(envelope), ClusterJson.ReadRooms(envelope.Data.Span));
                break;
            case ClusterEnvelopeKinds.DisconnectSockets:
                base.DisconnectSockets(OptionsOf(envelope), ClusterJson.ReadClose(envelope.Data.Span));
                break;
            case ClusterEnvelopeKinds.FetchSockets:
                AnswerFetchSockets(envelope);
                break;
            case ClusterEnvelopeKinds.FetchSocketsResponse:
                if (envelope.RequestId is not null && _requests.TryGetValue(envelope.RequestId, out var fetched) && fetched is FetchRequest fetchRequest)
                {
                    fetchRequest.OnResponse(envelope.Source, ClusterJson.ReadSockets(envelope.Data.Span, this, envelope.Source));
                }

                break;
            case ClusterEnvelopeKinds.ServerSideEmit:
                DeliverServerSideEmit(envelope);
                break;
            case ClusterEnvelopeKinds.ServerSideEmitResponse:
                if (envelope.RequestId is not null && _requests.TryGetValue(envelope.RequestId, out var answered) && answered is ServerSideRequest serverSideRequest)
                {
                    serverSideRequest.OnResponse(envelope.Source, ClusterJson.ReadServerSideResponse(envelope.Source, envelope.Data.Span, envelope.Attachments, Namespace.Server.JsonOptions));
                }

                break;
            case ClusterEnvelopeKinds.Heartbeat:
                OnHeartbeat(envelope.Source);
                break;
            case ClusterEnvelopeKinds.NodeClose:
                RemoveNode(envelope.Source, "node-close");
                break;
            default:
                // Other kinds (sse-*, extensions) are for other consumers of the bus.
                break;
        }
    }

    private static BroadcastOptions OptionsOf(ClusterEnvelope envelope)
        => new(envelope.Rooms, envelope.Except, new BroadcastFlags
        {
            Volatile = (envelope.Flags & ClusterEnvelopeFlags.Volatile) != 0,
            Compress = (envelope.Flags & ClusterEnvelopeFlags.Compress) != 0,
        });

    /// <summary>
    /// Filters first (no local target: nothing is decoded or allocated beyond the parsed envelope), then builds
    /// the client bytes once and writes the same messages to every target.
    /// </summary>
    private void DeliverBroadcast(ClusterEnvelope envelope, string channel)
    {
        var options = OptionsOf(envelope);
        var targets = Collect(options, out var count);
        try
        {
            if (count == 0 || !TryBuildPacket(envelope, -1, channel, out var packet))
            {
                return;
            }

            for (var i = 0; i < count; i++)
            {
                targets[i].DeliverBroadcast(packet, options.Flags);
            }
        }
        finally
        {
            Release(targets, count);
        }
    }

    private void DeliverBroadcastWithAck(ClusterEnvelope envelope, string channel)
    {
        if (envelope.RequestId is null)
        {
            ClusterAdapterLog.BadEnvelope(_logger, Namespace.Name, channel, "broadcast-ack without requestId");
            return;
        }

        var relay = new AckRelay(this, envelope.Source, envelope.RequestId);
        var options = OptionsOf(envelope);
        var targets = Collect(options, out var count);
        var reached = 0;
        try
        {
            if (count > 0 && TryBuildPacket(envelope, Namespace.NextAckId(), channel, out var packet))
            {
                for (var i = 0; i < count; i++)
                {
                    if (targets[i].DeliverBroadcastWithAck(packet, options.Flags, relay.OnAck))
                    {
                        reached++;
                    }
                }
            }
        }
        finally
        {
            Release(targets, count);
        }

        relay.OnCount(reached);
    }

    private bool TryBuildPacket(ClusterEnvelope envelope, long id, string channel, out BroadcastPacket packet)
    {
        if (!ClusterSocketIOPacket.TryToSocketIOText(envelope.Packet.Span, Namespace.Name, envelope.Attachments.Count, id, out var text, out var error))
        {
            ClusterAdapterLog.BadEnvelope(_logger, Namespace.Name, channel, error);
            packet = null!;
            return false;
        }

        packet = new BroadcastPacket(Namespace.Name, new EncodedSocketIOPacket(text, ClusterSocketIOPacket.ToArray(envelope.Attachments)), id);
        return true;
    }

    private void AnswerFetchSockets(ClusterEnvelope envelope)
    {
        var local = base.FetchSocketsAsync(OptionsOf(envelope));
        var sockets = local.IsCompletedSuccessfully ? local.Result : local.AsTask().GetAwaiter().GetResult();
        var data = ClusterJson.WriteSockets(sockets, Namespace.Server.JsonOptions, (id, e) => ClusterAdapterLog.DataNotSerializable(_logger, Namespace.Name, id, e));
        Publish(ChannelOf(envelope.Source), new ClusterEnvelope
        {
            Source = NodeName,
            Target = envelope.Source,
            Kind = ClusterEnvelopeKinds.FetchSocketsResponse,
            Namespace = Namespace.Name,
            RequestId = envelope.RequestId,
            Data = data,
        });
    }

    /// <summary>
    /// Sends one node's answers to a broadcast with acks back to the requester: the client count first, then
    /// each ack. Acks that arrive (on other threads) before the count is out are held, so the requester always
    /// learns how many to expect before it counts answers.
    /// </summary>
    private sealed class AckRelay(ClusterAdapter adapter, string requester, string requestId)
    {
        private readonly Lock _lock = new();
        private List<AckResponse>? _held = [];

        public void OnCount(int count)
        {
            List<AckResponse> held;
            lock (_lock)
            {
                Send(ClusterEnvelopeKinds.BroadcastClientCount, ClusterJson.CountData(count, adapter.NodeName, adapter.Nodes), []);
                held = _held!;
                _held = null;
                foreach (var ack in held)
                {
                    SendAck(ack);
                }
            }
        }

        public void OnAck(AckResponse ack)
        {
            lock (_lock)
            {
                if (_held is not null)
                {
                    _held.Add(ack);
                    return;
                }

                SendAck(ack);
            }
        }

        private void SendAck(AckResponse ack) => Send(ClusterEnvelopeKinds.BroadcastAckResponse, ClusterJson.AckData(ack), ack.Attachments);

        private void Send(string kind, ReadOnlyMemory<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
            => adapter.Publish(adapter.ChannelOf(requester), new ClusterEnvelope
            {
                Source = adapter.NodeName,
                Target = requester,
                Kind = kind,
                Namespace = adapter.Namespace.Name,
                RequestId = requestId,
                Data = data,
                Attachments = attachments,
            });
    }
}
