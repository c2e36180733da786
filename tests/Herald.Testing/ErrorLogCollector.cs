using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Testing;

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every entry at or above a level (Error by default) as text, so a test
/// host can fail a test that logged an unexpected error.
/// </summary>
public sealed class ErrorLogCollector(LogLevel minimum = LogLevel.Error) : ILoggerProvider, ILogger
{
    /// <summary>The entries kept, formatted as <c>level: message exception</c>.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => this;

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= minimum)
        {
            Errors.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
