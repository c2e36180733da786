using Microsoft.Extensions.Logging;

namespace Herald.Redis;

/// <summary>
/// The Warning a Redis bus logs while it cannot reach Redis (at start or during an outage): one line at once and then
/// one every <c>interval</c>, with how long it has lasted and the last error's first line. No stack trace:
/// StackExchange.Redis keeps reconnecting and nothing is wrong with the process. Called from one monitor loop only.
/// </summary>
internal sealed class RedisUnreachableWarning(ILogger logger, TimeProvider time, string endpoints, TimeSpan interval)
{
    private long _since = -1;
    private long _logged;

    /// <summary>Redis cannot be reached now: logs when the interval has passed since the last line (or on the first call).</summary>
    /// <param name="lastError">The last connection error, or null.</param>
    /// <param name="publications">What happens to publications meanwhile (for the operator).</param>
    public void Unreachable(Exception? lastError, string publications)
    {
        var now = time.GetTimestamp();
        if (_since < 0)
        {
            _since = now;
        }
        else if (time.GetElapsedTime(_logged, now) < interval)
        {
            return;
        }

        _logged = now;
        var error = lastError?.Message is { } message ? message.Split('\n', 2)[0].Trim() : "no connection yet";
        RedisLog.Unreachable(logger, endpoints, (int)time.GetElapsedTime(_since, now).TotalSeconds, publications, error);
    }

    /// <summary>Redis is reachable: the next unreachable period starts a new count (and logs at once).</summary>
    public void Reachable() => _since = -1;
}
