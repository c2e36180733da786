using Herald.Sse.Internal;

namespace Herald.Sse;

public sealed partial class SseServer
{
    // A comment line then a blank line: ignored by EventSource, enough traffic for proxies and to detect dead peers.
    private static readonly byte[] s_heartbeat = ":\n\n"u8.ToArray();

    /// <summary>
    /// The one timer of the server (no per-client timers): queues a heartbeat on every connection, forgets sessions
    /// past their replay window and closed ids past their retention, and ages out history.
    /// </summary>
    private void OnTick()
    {
        lock (_lock)
        {
            foreach (var connection in _connections)
            {
                if (!connection.TryEnqueue(new SseQueuedFrame(s_heartbeat, 0, HasId: false), out var overflowed) && overflowed)
                {
                    SseLog.SlowClient(_logger, connection.Client.Id, connection.QueuedMessages, connection.QueuedBytes, _options.MaxQueuedMessages, _options.MaxQueuedBytes);
                    SseMetrics.SlowClientDisconnects.Add(1);
                }

                // Keeps the shared session fresh, so a node that dies without a goodbye still leaves it resumable.
                _store?.SaveSession(_instanceTag, connection.Client.Id, connection.Client.Rooms);
            }

            Sweep();
        }
    }

    private void Sweep()
    {
        var now = Now;
        var window = ToTimestampUnits(_options.ReplayWindow);
        var retention = ToTimestampUnits(_options.ClosedClientRetention);
        var expired = _scratchList;
        try
        {
            foreach (var client in _clients.Values)
            {
                if (client.Connection is null && now - client.EndedAt > (client.IsClosed ? retention : window))
                {
                    expired.Add(client);
                }
            }

            foreach (var client in expired)
            {
                LeaveAllLocked(client);
                _clients.Remove(client.Id);
            }

            // Drop stale entries of the eviction queue (resumed or swept clients) so it stays proportional to the clients.
            if (_disconnected.Count > 2 * (_clients.Count - _connections.Count) + 64)
            {
                var keep = _disconnected.Where(e => e.Client.Connection is null && e.Client.EndedAt == e.EndedAt
                    && _clients.TryGetValue(e.Client.Id, out var c) && c == e.Client).ToList();
                _disconnected.Clear();
                foreach (var e in keep)
                {
                    _disconnected.Enqueue(e);
                }
            }
        }
        finally
        {
            expired.Clear();
        }

        var cutoff = now - window;
        _allHistory.Trim(cutoff);
        foreach (var room in _rooms.Values)
        {
            room.History.Trim(cutoff);
        }
    }
}
