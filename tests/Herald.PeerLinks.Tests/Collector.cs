namespace Herald.PeerLinks.Tests;

/// <summary>Collects what a subscription receives and lets a test wait for a given item.</summary>
internal sealed class Collector<T>
{
    private readonly Lock _lock = new();
    private readonly List<T> _items = [];
    private readonly List<(Func<T, bool> Match, TaskCompletionSource<T> Tcs)> _waiters = [];

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_lock)
            {
                return [.. _items];
            }
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            _items.Add(item);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(item))
                {
                    _waiters[i].Tcs.TrySetResult(item);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Completes when an item matching <paramref name="match"/> has arrived (or already had).</summary>
    public Task<T> WaitForAsync(Func<T, bool> match)
    {
        lock (_lock)
        {
            foreach (var item in _items)
            {
                if (match(item))
                {
                    return Task.FromResult(item);
                }
            }

            var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, tcs));
            return tcs.Task;
        }
    }
}
