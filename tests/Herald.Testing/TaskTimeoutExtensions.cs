using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Herald.Testing;

/// <summary>Every await in a test has a timeout: <c>await task.DefaultTimeout()</c>.</summary>
public static class TaskTimeoutExtensions
{
    /// <summary>The default wait for anything a test expects to happen.</summary>
    public static TimeSpan DefaultTimeoutSpan => Debugger.IsAttached ? TimeSpan.FromMinutes(10) : TimeSpan.FromSeconds(10);

    public static Task DefaultTimeout(this Task task, [CallerFilePath] string? file = null, [CallerLineNumber] int line = 0)
        => task.WaitAsync(DefaultTimeoutSpan).ContinueWith(t => Rethrow(t, file, line), TaskScheduler.Default).Unwrap();

    public static async Task<T> DefaultTimeout<T>(this Task<T> task, [CallerFilePath] string? file = null, [CallerLineNumber] int line = 0)
    {
        try
        {
            return await task.WaitAsync(DefaultTimeoutSpan);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Timed out after {DefaultTimeoutSpan} at {file}:{line}", e);
        }
    }

    public static Task DefaultTimeout(this ValueTask task, [CallerFilePath] string? file = null, [CallerLineNumber] int line = 0)
        => task.AsTask().DefaultTimeout(file, line);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task, [CallerFilePath] string? file = null, [CallerLineNumber] int line = 0)
        => task.AsTask().DefaultTimeout(file, line);

    private static Task Rethrow(Task t, string? file, int line)
    {
        if (t.Exception?.InnerException is TimeoutException te)
        {
            throw new TimeoutException($"Timed out after {DefaultTimeoutSpan} at {file}:{line}", te);
        }

        return t;
    }
}
