using Microsoft.Extensions.Options;

namespace Herald.Sessions;

/// <summary>
/// The default <see cref="ISessionStore"/>: a dictionary in this process, with the sliding expiry of
/// <see cref="HeraldSessionOptions.Expiry"/>. Expired sessions are dropped when read and by a sweep that runs at most
/// once per expiry period, on writes. Nodes that share it must share the process (tests); a cluster uses Redis.
/// </summary>
public sealed class InMemorySessionStore : ISessionStore
{
    private readonly Dictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _expiry;
    private long _nextSweep;

    /// <summary>Creates the store.</summary>
    /// <param name="options">The session options (expiry, clock).</param>
    public InMemorySessionStore(IOptions<HeraldSessionOptions>? options = null)
    {
        var o = options?.Value ?? new HeraldSessionOptions();
        _time = o.TimeProvider;
        _expiry = o.Expiry;
        _nextSweep = _time.GetTimestamp();
    }

    /// <summary>The number of sessions held (expired ones included until swept).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<SessionState> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var entry = Find(sessionId);
            return ValueTask.FromResult(entry is null ? SessionState.Empty : new SessionState([.. entry.Channels], entry.UserId));
        }
    }

    /// <inheritdoc />
    public ValueTask AddChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            GetOrAdd(sessionId).Channels.UnionWith(channels);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask RemoveChannelsAsync(string sessionId, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Find(sessionId)?.Channels.ExceptWith(channels);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ClearChannelsAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Find(sessionId)?.Channels.Clear();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask SetUserIdAsync(string sessionId, string? userId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            GetOrAdd(sessionId).UserId = userId;
        }

        return ValueTask.CompletedTask;
    }

    private Entry? Find(string sessionId)
    {
        var now = _time.GetTimestamp();
        if (!_sessions.TryGetValue(sessionId, out var entry))
        {
            return null;
        }

        if (_time.GetElapsedTime(entry.Touched, now) > _expiry)
        {
            _sessions.Remove(sessionId);
            return null;
        }

        entry.Touched = now;
        return entry;
    }

    private Entry GetOrAdd(string sessionId)
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_nextSweep, now) > _expiry)
        {
            _nextSweep = now;
            foreach (var (id, e) in _sessions)
            {
                if (_time.GetElapsedTime(e.Touched, now) > _expiry)
                {
                    _sessions.Remove(id);
                }
            }
        }

        var entry = Find(sessionId);
        if (entry is null)
        {
            entry = new Entry { Touched = now };
            _sessions[sessionId] = entry;
        }

        return entry;
    }

    private sealed class Entry
    {
        public HashSet<string> Channels { get; } = new(StringComparer.Ordinal);

        public string? UserId { get; set; }

        public long Touched { get; set; }
    }
}
