namespace Herald.Sse.Internal;

/// <summary>One replayable event: its server sequence number, when it was published, and its shared body.</summary>
internal readonly record struct SseHistoryEntry(long Seq, long Timestamp, byte[] Body);

/// <summary>
/// A bounded, time-trimmed ring of past events for one audience (all clients, a topic, or one client's direct
/// events). Entries are appended in sequence order (the server appends under its publish lock). Guarded by the
/// server lock. <see cref="EvictedUpTo"/> remembers the newest sequence dropped, which is how a reconnect learns
/// that it asks for more than we kept.
/// </summary>
internal sealed class SseHistory
{
    private SseHistoryEntry[] _items = [];
    private int _head;
    private int _count;

    /// <summary>The highest sequence number evicted (by count or age); 0 when nothing was dropped.</summary>
    public long EvictedUpTo { get; private set; }

    public int Count => _count;

    public void Add(long seq, long timestamp, byte[] body, int capacity)
    {
        if (capacity <= 0)
        {
            EvictedUpTo = seq;
            return;
        }

        if (_count == _items.Length && _items.Length < capacity)
        {
            Grow(capacity);
        }

        if (_count == _items.Length)
        {
            // Full at capacity: the oldest goes.
            EvictedUpTo = _items[_head].Seq;
            _items[_head] = new SseHistoryEntry(seq, timestamp, body);
            _head = (_head + 1) % _items.Length;
            return;
        }

        _items[(_head + _count) % _items.Length] = new SseHistoryEntry(seq, timestamp, body);
        _count++;
    }

    /// <summary>Drops entries published before <paramref name="cutoffTimestamp"/>.</summary>
    public void Trim(long cutoffTimestamp)
    {
        while (_count > 0 && _items[_head].Timestamp < cutoffTimestamp)
        {
            EvictedUpTo = _items[_head].Seq;
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
        }

        if (_count == 0)
        {
            // An idle history holds no buffer.
            _items = [];
            _head = 0;
        }
    }

    /// <summary>Appends every entry with a sequence greater than <paramref name="afterSeq"/>, oldest first.</summary>
    public void CollectAfter(long afterSeq, List<SseHistoryEntry> into)
    {
        for (var i = 0; i < _count; i++)
        {
            ref readonly var entry = ref _items[(_head + i) % _items.Length];
            if (entry.Seq > afterSeq)
            {
                into.Add(entry);
            }
        }
    }

    public void Clear()
    {
        _items = [];
        _head = 0;
        _count = 0;
    }

    private void Grow(int capacity)
    {
        var next = new SseHistoryEntry[Math.Min(capacity, Math.Max(4, _items.Length * 2))];
        for (var i = 0; i < _count; i++)
        {
            next[i] = _items[(_head + i) % _items.Length];
        }

        _items = next;
        _head = 0;
    }
}
