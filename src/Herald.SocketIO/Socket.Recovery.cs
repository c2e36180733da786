namespace Herald.SocketIO;

/// <summary>Connection-state recovery: replay of the missed packets and the session's lifecycle.</summary>
public sealed partial class Socket
{
    private readonly Lock _replayLock = new();
    private readonly RecoverySession? _restored;
    private readonly string? _restoreOffset;
    private List<BroadcastPacket>? _replayBuffer;

    // The last log sequence the replay covered (-1: no replay). A broadcast logged before the replay read the log but
    // delivered after the replay went live (its target list was collected while the socket was being restored) was
    // already replayed: it is dropped here instead of reaching the client twice.
    private long _replayedUpTo = -1;

    /// <summary>The reasons after which socket.io keeps the session for a recovery (the client did not leave on purpose).</summary>
    internal static bool IsRecoverable(string reason) => reason is DisconnectReasons.TransportError or DisconnectReasons.TransportClose
        or DisconnectReasons.ForcedClose or DisconnectReasons.PingTimeout or DisconnectReasons.ServerShuttingDown or DisconnectReasons.ForcedServerClose;

    /// <summary>
    /// Sends the packets the client missed (read from the log after the rooms were joined), then the live packets
    /// that arrived meanwhile and are not part of the replay, then goes live. Holding the lock while sending keeps
    /// a concurrent live delivery behind the replay.
    /// </summary>
    private void Replay()
    {
        var rooms = _restored!.Rooms.Contains(Id) ? _restored.Rooms : [Id, .. _restored.Rooms];
        var missed = Namespace.RecoveryAdapter!.MissedPackets(_restoreOffset!, rooms, out var upTo);
        lock (_replayLock)
        {
            foreach (var packet in missed)
            {
                Send(packet);
            }

            foreach (var packet in _replayBuffer!)
            {
                if (packet.LogSequence < 0 || packet.LogSequence > upTo)
                {
                    Send(packet);
                }
            }

            System.Threading.Volatile.Write(ref _replayedUpTo, upTo);
            _replayBuffer = null;
        }

        SocketIOLog.SocketRecovered(Logger, Id, Namespace.Name, missed.Count);
    }

    /// <summary>Holds a live packet while the replay is not out yet, or drops one the replay already sent; false when it is to be sent now.</summary>
    private bool TryHoldForReplay(BroadcastPacket packet)
    {
        if (System.Threading.Volatile.Read(ref _replayBuffer) is null)
        {
            return IsReplayed(packet);
        }

        lock (_replayLock)
        {
            if (_replayBuffer is null)
            {
                return IsReplayed(packet);
            }

            _replayBuffer.Add(packet);
            return true;
        }
    }

    /// <summary>True when the replay already sent this logged packet (see <see cref="_replayedUpTo"/>).</summary>
    private bool IsReplayed(BroadcastPacket packet)
    {
        var upTo = System.Threading.Volatile.Read(ref _replayedUpTo);
        return upTo >= 0 && packet.LogSequence >= 0 && packet.LogSequence <= upTo;
    }

    private Task AfterRoomsChanged(ValueTask change)
    {
        if (Pid is null || Namespace.RecoveryAdapter is null)
        {
            return change.AsTask();
        }

        if (change.IsCompletedSuccessfully)
        {
            NotifyRoomsChanged();
            return Task.CompletedTask;
        }

        return Await(change, this);

        static async Task Await(ValueTask change, Socket socket)
        {
            await change.ConfigureAwait(false);
            socket.NotifyRoomsChanged();
        }
    }

    private void NotifyRoomsChanged()
    {
        if (Pid is not null && Connected)
        {
            Namespace.RecoveryAdapter?.OnSessionRoomsChanged(this);
        }
    }
}
