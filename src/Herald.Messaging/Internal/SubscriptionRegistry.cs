using System.Diagnostics.CodeAnalysis;

namespace Herald.Messaging.Internal;

/// <summary>
/// The local subscriptions of a bus, by exact channel and by pattern. Handler lists are copy-on-write
/// arrays: a delivery reads a snapshot with no lock, so handlers never run under a lock and a handler may
/// subscribe or unsubscribe from inside a delivery.
/// </summary>
/// <remarks>
/// <para>Public as a building block for <see cref="IMessageBus"/> implementations (Herald.Redis, a third-party bus), so
/// that every bus delivers with the same ordering and pattern semantics; applications do not need it.</para>
/// </remarks>
public sealed class SubscriptionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> _patterns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _channelsBySpan;
    private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _patternsBySpan;
    private Entry[] _patternSnapshot = [];

    /// <summary>Creates an empty registry.</summary>
    public SubscriptionRegistry()
    {
        _channelsBySpan = _channels.GetAlternateLookup<ReadOnlySpan<char>>();
        _patternsBySpan = _patterns.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Every pattern with at least one handler; a lock-free snapshot.</summary>
    public Entry[] Patterns => Volatile.Read(ref _patternSnapshot);

    /// <summary>Adds a registration; true when it is the first for its name (the name must be subscribed upstream).</summary>
    public bool Add(Subscription subscription)
    {
        lock (_lock)
        {
            var map = subscription.IsPattern ? _patterns : _channels;
            var first = false;
            if (!map.TryGetValue(subscription.Name, out var entry))
            {
                entry = new Entry(subscription.Name);
                map.Add(subscription.Name, entry);
                first = true;
                if (subscription.IsPattern)
                {
                    _patternSnapshot = [.. _patternSnapshot, entry];
                }
            }

            entry.Subscriptions = [.. entry.Subscriptions, subscription];
            return first;
        }
    }

    /// <summary>Removes a registration; true when it was the last for its name (the name must be unsubscribed upstream).</summary>
    public bool Remove(Subscription subscription)
    {
        lock (_lock)
        {
            var map = subscription.IsPattern ? _patterns : _channels;
            if (!map.TryGetValue(subscription.Name, out var entry))
            {
                return false;
            }

            var index = Array.IndexOf(entry.Subscriptions, subscription);
            if (index < 0)
            {
                return false;
            }

            if (entry.Subscriptions.Length > 1)
            {
                var copy = new Subscription[entry.Subscriptions.Length - 1];
                entry.Subscriptions.AsSpan(0, index).CopyTo(copy);
                entry.Subscriptions.AsSpan(index + 1).CopyTo(copy.AsSpan(index));
                entry.Subscriptions = copy;
                return false;
            }

            entry.Subscriptions = [];
            map.Remove(subscription.Name);
            if (subscription.IsPattern)
            {
                _patternSnapshot = Array.FindAll(_patternSnapshot, e => !ReferenceEquals(e, entry));
            }

            return true;
        }
    }

    /// <summary>True when <paramref name="name"/> still has registrations (used to decide whether to resubscribe).</summary>
    public bool Contains(string name, bool isPattern)
    {
        lock (_lock)
        {
            return (isPattern ? _patterns : _channels).ContainsKey(name);
        }
    }

    /// <summary>The handlers of an exact channel, looked up without allocating a string.</summary>
    public bool TryGetChannel(ReadOnlySpan<char> channel, [NotNullWhen(true)] out Entry? entry)
    {
        lock (_lock)
        {
            return _channelsBySpan.TryGetValue(channel, out entry);
        }
    }

    /// <summary>The handlers of a pattern, looked up without allocating a string.</summary>
    public bool TryGetPattern(ReadOnlySpan<char> pattern, [NotNullWhen(true)] out Entry? entry)
    {
        lock (_lock)
        {
            return _patternsBySpan.TryGetValue(pattern, out entry);
        }
    }

    /// <summary>Every subscribed name, for restoring subscriptions after a reconnection.</summary>
    public (string[] Channels, string[] Patterns) Names()
    {
        lock (_lock)
        {
            return ([.. _channels.Keys], [.. _patterns.Keys]);
        }
    }

    /// <summary>The registrations of one name.</summary>
    /// <param name="name">The channel or pattern.</param>
    public sealed class Entry(string name)
    {
        private Subscription[] _subscriptions = [];

        /// <summary>The channel or pattern.</summary>
        public string Name { get; } = name;

        /// <summary>Its registrations: a copy-on-write snapshot, read without a lock for a delivery.</summary>
        public Subscription[] Subscriptions
        {
            get => Volatile.Read(ref _subscriptions);
            set => Volatile.Write(ref _subscriptions, value);
        }
    }
}
