using Herald.Messaging;
using Herald.Protocol.Cluster;

namespace Herald.SocketIO.Cluster;

public partial class ClusterAdapter
{
    private void OnHeartbeat(string node)
    {
        var isNew = !_nodes.ContainsKey(node);
        _nodes[node] = _time.GetTimestamp();
        if (isNew)
        {
            ClusterAdapterLog.NodeUp(_logger, Namespace.Name, node);

            // Answer a newcomer at once so that it knows this node without waiting a whole interval.
            PublishHeartbeat();
            RaiseNodesChanged();
        }
    }

    private void RemoveNode(string node, string reason)
    {
        if (!_nodes.TryRemove(node, out _))
        {
            return;
        }

        ClusterAdapterLog.NodeDown(_logger, Namespace.Name, node, reason);
        Recovery?.NodeGone(node); // its clients' sessions can now be restored here
        foreach (var request in _requests.Values)
        {
            request.OnNodeGone(node);
        }

        RaiseNodesChanged();
    }

    private void OnHeartbeatTimer()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        PublishHeartbeat();
        FlushInFlight(_options.HeartbeatTimeout); // a safety net: an echo lost while the subscriber reconnected
        foreach (var (node, seen) in _nodes)
        {
            if (_time.GetElapsedTime(seen) > _options.HeartbeatTimeout)
            {
                RemoveNode(node, "no heartbeat");
            }
        }
    }

    private void OnBusStateChanged(object? sender, MessageBusStateChangedEventArgs e)
    {
        if (e.Current == MessageBusState.Connected && Volatile.Read(ref _closed) == 0)
        {
            PublishHeartbeat(); // back after an outage: let the others know now
        }
        else if (e.Current != MessageBusState.Connected)
        {
            FlushInFlight(TimeSpan.Zero); // their echo will not come back
        }
    }

    private void PublishHeartbeat()
        => Publish(_allChannel, new ClusterEnvelope { Source = NodeName, Kind = ClusterEnvelopeKinds.Heartbeat, Namespace = Namespace.Name });

    private void RaiseNodesChanged()
    {
        try
        {
            NodesChanged?.Invoke();
        }
        catch (Exception e)
        {
            ClusterAdapterLog.HandlerFailed(_logger, Namespace.Name, "nodes-changed", NodeName, e);
        }
    }
}
