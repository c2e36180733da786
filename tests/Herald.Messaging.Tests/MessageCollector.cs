using Herald.Messaging;

namespace Herald.Messaging.Tests;

/// <summary>Records what a bus handler receives (payloads copied) and lets a test wait for a count.</summary>
public sealed class MessageCollector
{
    private readonly Lock _lock = new();
    private readonly List<(string Channel, string? Pattern, byte[] Payload)> _messages = [];
    private readonly List<(int Count, TaskCompletionSource Tcs)> _waiters = [];

    public BusMessageHandler Handler => message =>
    {
        Add(message);
        return ValueTask.CompletedTask;
    };

    /// <summary>A handler that completes asynchronously, to exercise the slow dispatch path.</summary>
    public BusMessageHandler AsyncHandler => async message =>
    {
        var copy = new BusMessage(message.Channel, message.Pattern, message.Payload.ToArray());
        await Task.Yield();
        Add(copy);
    };

    public IReadOnlyList<(string Channel, string? Pattern, byte[] Payload)> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _messages.Count;
            }
        }
    }

    public void Add(BusMessage message)
    {
        lock (_lock)
        {
            _messages.Add((message.Channel, message.Pattern, message.Payload.ToArray()));
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_messages.Count >= _waiters[i].Count)
                {
                    _waiters[i].Tcs.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> messages arrived.</summary>
    public Task WaitForCountAsync(int count)
    {
        lock (_lock)
        {
            if (_messages.Count >= count)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, tcs));
            return tcs.Task;
        }
    }
}
