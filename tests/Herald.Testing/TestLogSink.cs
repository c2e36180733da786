using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Testing;

/// <summary>An <see cref="ILoggerProvider"/> that keeps every log entry, so tests can assert on logs.</summary>
public sealed class TestLogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>One log entry.</summary>
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    /// <summary>Raised for every entry, on the logging thread.</summary>
    public event Action<Entry>? Logged;

    public IReadOnlyCollection<Entry> Entries => _entries.ToArray();

    /// <summary>A logger factory writing to this sink.</summary>
    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    /// <summary>Completes when an entry matching <paramref name="predicate"/> is logged (or already was).</summary>
    public Task<Entry> WaitForAsync(Func<Entry, bool> predicate)
    {
        var tcs = new TaskCompletionSource<Entry>(TaskCreationOptions.RunContinuationsAsynchronously);
        Logged += e =>
        {
            if (predicate(e))
            {
                tcs.TrySetResult(e);
            }
        };
        foreach (var e in _entries)
        {
            if (predicate(e))
            {
                tcs.TrySetResult(e);
            }
        }

        return tcs.Task;
    }

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(TestLogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = new Entry(category, logLevel, eventId, formatter(state, exception), exception);
            sink._entries.Enqueue(entry);
            sink.Logged?.Invoke(entry);
        }
    }
}
