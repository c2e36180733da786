using Herald.Sse.Internal;

namespace Herald.Sse;

/// <summary>
/// An <see cref="ISseHistoryStore"/> in this process's memory: for several SSE servers in one process (tests, a
/// hub hosting several endpoints) sharing one instance. Bounded: <paramref name="maxEventsPerAudience"/> events per
/// node and audience, everything forgotten after <paramref name="retention"/>. A cluster of processes needs a shared
/// store (Redis).
/// </summary>
/// <param name="maxEventsPerAudience">Events kept per node and audience. Default 256.</param>
/// <param name="retention">How long sessions, events and closed ids are kept. Default 2 min (<see cref="SseOptions.ReplayWindow"/>).</param>
/// <param name="timeProvider">The clock; default the system clock.</param>
public sealed class InMemorySseHistoryStore(int maxEventsPerAudience = 256, TimeSpan? retention = null, TimeProvider? timeProvider = null) : ISseHistoryStore
{
    private const int SweepEvery = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Instance, string Audience), SseHistory> _histories = [];
    private readonly Dictionary<(string Instance, string ClientId), (Dictionary<string, long> Topics, long SavedAt)> _sessions = [];
    private readonly Dictionary<string, long> _closed = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly TimeSpan _retention = retention ?? TimeSpan.FromMinutes(2);
    private int _untilSweep = SweepEvery;

    /// <inheritdoc />
    public void Append(string instance, SseAudience audience, long seq, byte[] body)
    {
        lock (_lock)
        {
            var key = (instance, audience.Key);
            if (!_histories.TryGetValue(key, out var history))
            {
                history = new SseHistory();
                _histories.Add(key, history);
            }

            history.Add(seq, _time.GetTimestamp(), body, maxEventsPerAudience);
            if (--_untilSweep <= 0)
            {
                SweepLocked();
            }
        }
    }

    /// <inheritdoc />
    public void SaveSession(string instance, string clientId, IReadOnlyDictionary<string, long> topics)
    {
        var copy = new Dictionary<string, long>(topics, StringComparer.Ordinal);
        lock (_lock)
        {
            _sessions[(instance, clientId)] = (copy, _time.GetTimestamp());
        }
    }

    /// <inheritdoc />
    public void MarkClosed(string clientId)
    {
        lock (_lock)
        {
            _closed[clientId] = _time.GetTimestamp();
        }
    }

    /// <inheritdoc />
    public ValueTask<SseResumeResult> ResumeAsync(string instance, string clientId, long afterSeq, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_closed.TryGetValue(clientId, out var closedAt) && !Expired(closedAt, now))
            {
                return ValueTask.FromResult(SseResumeResult.Closed);
            }

            if (!_sessions.TryGetValue((instance, clientId), out var session) || Expired(session.SavedAt, now))
            {
                return ValueTask.FromResult(SseResumeResult.Unknown);
            }

            var cutoff = now - ToTimestampUnits(_retention);
            var entries = new List<SseHistoryEntry>();
            var gap = Collect(instance, SseAudience.All, afterSeq, cutoff, entries);
            foreach (var (topic, joinedAt) in session.Topics)
            {
                gap |= Collect(instance, SseAudience.Topic(topic), Math.Max(afterSeq, joinedAt), cutoff, entries);
            }

            gap |= Collect(instance, SseAudience.Client(clientId), afterSeq, cutoff, entries);
            entries.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            var events = new List<SseStoredEvent>(entries.Count);
            foreach (var entry in entries)
            {
                // An event sent to several of the client's audiences is in several histories.
                if (events.Count == 0 || events[^1].Seq != entry.Seq)
                {
                    events.Add(new SseStoredEvent(entry.Seq, entry.Body));
                }
            }

            return ValueTask.FromResult(new SseResumeResult(SseResumeStatus.Found, [.. session.Topics.Keys], events, gap));
        }
    }

    private bool Collect(string instance, SseAudience audience, long afterSeq, long cutoff, List<SseHistoryEntry> into)
    {
        if (!_histories.TryGetValue((instance, audience.Key), out var history))
        {
            return false;
        }

        history.Trim(cutoff);
        history.CollectAfter(afterSeq, into);
        return history.EvictedUpTo > afterSeq;
    }

    private void SweepLocked()
    {
        _untilSweep = SweepEvery;
        var now = _time.GetTimestamp();
        var cutoff = now - ToTimestampUnits(_retention);
        foreach (var (key, history) in _histories)
        {
            history.Trim(cutoff);
            if (history.Count == 0)
            {
                _histories.Remove(key);
            }
        }

        foreach (var (key, session) in _sessions)
        {
            if (Expired(session.SavedAt, now))
            {
                _sessions.Remove(key);
            }
        }

        foreach (var (key, at) in _closed)
        {
            if (Expired(at, now))
            {
                _closed.Remove(key);
            }
        }
    }

    private bool Expired(long at, long now) => now - at > ToTimestampUnits(_retention);

    private long ToTimestampUnits(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
