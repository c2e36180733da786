using System.Security.Cryptography;

namespace Herald.SocketIO.Recovery;

/// <summary>
/// The recovery state of one namespace on this server (socket.io-adapter's <c>SessionAwareAdapter</c>): a bounded
/// log of the recoverable packets in delivery order, indexed by offset, and the sessions that may be restored.
/// </summary>
/// <remarks>
/// <para>Ordering: a packet is appended (and gets its local sequence number) before it is delivered to any local
/// socket, and a restoring socket joins its rooms before it reads the log. So every packet is either in the
/// replay (sequence up to the snapshot taken after joining) or delivered live (later sequence numbers): the
/// socket drops live packets at or below the snapshot while it replays, and nothing is lost or doubled.</para>
/// <para>Bounds: <see cref="ConnectionStateRecoveryOptions.MaxPackets"/> and the age
/// <see cref="ConnectionStateRecoveryOptions.MaxDisconnectionDuration"/> for packets;
/// <see cref="ConnectionStateRecoveryOptions.MaxSessions"/> and the same age for disconnected sessions.</para>
/// </remarks>
internal sealed class ConnectionStateStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly ConnectionStateRecoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly string _offsetPrefix;
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecoverySession> _sessions = new(StringComparer.Ordinal);
    private LogEntry[] _ring;
    private int _head;
    private int _count;
    private long _lastSequence;
    private long _nextOffset;
    private long _lastSweep;

    public ConnectionStateStore(ConnectionStateRecoveryOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _ring = new LogEntry[Math.Min(Math.Max(options.MaxPackets, 1), 1024)];
        _offsetPrefix = NewToken(6) + "-";
    }

    public ConnectionStateRecoveryOptions Options => _options;

    /// <summary>How many packets the log holds.</summary>
    public int PacketCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>How many sessions are kept (live ones replicated from other nodes included).</summary>
    public int SessionCount
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private long MaxAge => (long)_options.MaxDisconnectionDuration.TotalMilliseconds;

    /// <summary>A new private session id: a secret the client presents to get its socket back.</summary>
    public static string NewPid() => NewToken(15);

    /// <summary>Gives the packet its offset (unique in the namespace: a random prefix per store and a counter).</summary>
    public void Stamp(BroadcastPacket packet)
    {
        var next = Interlocked.Increment(ref _nextOffset);
        packet.Stamp(_offsetPrefix + next.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Logs a stamped packet; call it before delivering the packet to any local socket.</summary>
    public void Append(BroadcastPacket packet, BroadcastOptions options)
    {
        if (packet.Offset is null)
        {
            return;
        }

        var now = Now;
        lock (_lock)
        {
            if (_offsets.ContainsKey(packet.Offset))
            {
                return; // the same publication seen twice (an echo and a local fallback): logged once
            }

            var sequence = ++_lastSequence;
            packet.LogSequence = sequence;
            if (_count == _options.MaxPackets)
            {
                DropOldest();
            }

            if (_count == _ring.Length)
            {
                Grow();
            }

            _ring[(_head + _count) % _ring.Length] = new LogEntry(sequence, packet, options.Rooms, options.Except, now);
            _count++;
            _offsets[packet.Offset] = sequence;
            while (_count > 0 && _ring[_head].Timestamp < now - MaxAge)
            {
                DropOldest();
            }

            SweepSessions(now);
        }
    }

    /// <summary>Keeps (or replaces) a session: a disconnected one to restore, or a live one replicated from its node.</summary>
    public void Save(RecoverySession session)
    {
        var now = Now;
        lock (_lock)
        {
            if (_sessions.TryGetValue(session.Pid, out var existing) && existing.Generation > session.Generation)
            {
                return; // a stale update: the session was restored elsewhere since
            }

            if (!_sessions.ContainsKey(session.Pid) && _sessions.Count >= _options.MaxSessions)
            {
                SweepSessions(now, force: true);
                if (_sessions.Count >= _options.MaxSessions && !DropOldestDisconnected())
                {
                    return;
                }
            }

            _sessions[session.Pid] = session;
            SweepSessions(now);
        }
    }

    /// <summary>Forgets a session (a disconnection that is not recoverable) unless a newer generation replaced it.</summary>
    public void Remove(string pid, int generation)
    {
        lock (_lock)
        {
            if (_sessions.TryGetValue(pid, out var existing) && existing.Generation <= generation)
            {
                _sessions.Remove(pid);
            }
        }
    }

    /// <summary>Marks every live session of <paramref name="node"/> as disconnected now (the node is gone).</summary>
    public void NodeGone(string node)
    {
        var now = Now;
        lock (_lock)
        {
            foreach (var session in _sessions.Values)
            {
                if (session.DisconnectedAt < 0 && string.Equals(session.Owner, node, StringComparison.Ordinal))
                {
                    session.DisconnectedAt = now;
                }
            }
        }
    }

    /// <summary>
    /// Takes the session <paramref name="pid"/> for a restore when it exists, has not expired, may be restored here
    /// (disconnected, or live on another node that lost the client) and its <paramref name="offset"/> is still in
    /// the log. The session is removed, so a second restore with the same pid fails.
    /// </summary>
    /// <summary>
    /// True when <paramref name="pid"/> names a session that is restorable but for <paramref name="offset"/>, which is
    /// not logged here (yet): on a cluster the client may come back before this node logged the last packet it got.
    /// </summary>
    public bool KnowsSessionButNotOffset(string pid, string offset)
    {
        lock (_lock)
        {
            return _sessions.ContainsKey(pid) && !_offsets.ContainsKey(offset);
        }
    }

    public RecoverySession? TryTake(string pid, string offset, string? self)
    {
        var now = Now;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(pid, out var session))
            {
                return null;
            }

            if (session.DisconnectedAt >= 0 && session.DisconnectedAt + MaxAge < now)
            {
                _sessions.Remove(pid);
                return null;
            }

            if (session.DisconnectedAt < 0 && (session.Owner is null || string.Equals(session.Owner, self, StringComparison.Ordinal)))
            {
                return null; // still connected here
            }

            if (!_offsets.ContainsKey(offset))
            {
                return null;
            }

            _sessions.Remove(pid);
            return session;
        }
    }

    /// <summary>
    /// The packets after <paramref name="offset"/> that target a socket in <paramref name="rooms"/>, in order, and
    /// the sequence number of the last logged packet (live deliveries up to it are duplicates of the replay).
    /// </summary>
    public IReadOnlyList<BroadcastPacket> Missed(string offset, IReadOnlyCollection<string> rooms, out long upTo)
    {
        var missed = new List<BroadcastPacket>();
        lock (_lock)
        {
            upTo = _lastSequence;
            if (!_offsets.TryGetValue(offset, out var from))
            {
                // Dropped between the restore and now (a flood of packets): replay what is left.
                from = _count == 0 ? _lastSequence : _ring[_head].Sequence - 1;
            }

            var first = _count == 0 ? 0 : _ring[_head].Sequence;
            for (var sequence = Math.Max(from + 1, first); sequence <= _lastSequence; sequence++)
            {
                ref readonly var entry = ref _ring[(_head + (int)(sequence - first)) % _ring.Length];
                if (Targets(entry, rooms))
                {
                    missed.Add(entry.Packet);
                }
            }
        }

        return missed;
    }

    private static bool Targets(in LogEntry entry, IReadOnlyCollection<string> rooms)
    {
        var included = entry.Rooms.Count == 0;
        foreach (var room in rooms)
        {
            for (var i = 0; i < entry.Except.Count; i++)
            {
                if (string.Equals(entry.Except[i], room, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            if (!included)
            {
                for (var i = 0; i < entry.Rooms.Count; i++)
                {
                    if (string.Equals(entry.Rooms[i], room, StringComparison.Ordinal))
                    {
                        included = true;
                        break;
                    }
                }
            }
        }

        return included;
    }

    private void DropOldest()
    {
        ref var oldest = ref _ring[_head];
        _offsets.Remove(oldest.Packet.Offset!);
        oldest = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private void Grow()
    {
        var bigger = new LogEntry[Math.Min(_ring.Length * 2, Math.Max(_options.MaxPackets, 1))];
        for (var i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = bigger;
        _head = 0;
    }

    private void SweepSessions(long now, bool force = false)
    {
        if (!force && now - _lastSweep < SweepInterval.TotalMilliseconds)
        {
            return;
        }

        _lastSweep = now;
        List<string>? expired = null;
        foreach (var (pid, session) in _sessions)
        {
            if (session.DisconnectedAt >= 0 && session.DisconnectedAt + MaxAge < now)
            {
                (expired ??= []).Add(pid);
            }
        }

        if (expired is not null)
        {
            foreach (var pid in expired)
            {
                _sessions.Remove(pid);
            }
        }
    }

    private bool DropOldestDisconnected()
    {
        string? oldest = null;
        var at = long.MaxValue;
        foreach (var (pid, session) in _sessions)
        {
            if (session.DisconnectedAt >= 0 && session.DisconnectedAt < at)
            {
                at = session.DisconnectedAt;
                oldest = pid;
            }
        }

        return oldest is not null && _sessions.Remove(oldest);
    }

    private static string NewToken(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(random);
        return Convert.ToBase64String(random).Replace('+', '-').Replace('/', '_').TrimEnd('=');
    }

    private readonly record struct LogEntry(long Sequence, BroadcastPacket Packet, IReadOnlyList<string> Rooms, IReadOnlyList<string> Except, long Timestamp);
}
