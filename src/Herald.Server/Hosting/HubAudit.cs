namespace Herald.Server.Hosting;

/// <summary>
/// The hub's audit trail: refused credentials on the publish API, the dashboard and <c>/readyz</c> details, and every
/// dashboard action, as Warning/Information lines under the <c>Herald.Audit</c> category (Socket.IO connections refused
/// by a middleware log there too). A line names the request (method, path, remote address) and who acted or why they
/// were refused, never the key, password or token presented. Refusals are rate-limited node-wide (a token bucket,
/// 10 per second, burst 50): past it they are counted, and the next line says how many were left out.
/// </summary>
public sealed partial class HubAudit
{
    /// <summary>The log category.</summary>
    public const string Category = "Herald.Audit";

    private const double PermitsPerSecond = 10;
    private const int Burst = 50;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens = Burst;
    private long _updated;
    private int _suppressed;

    /// <summary>Creates the audit trail.</summary>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="time">The clock of the rate limit (null: system).</param>
    public HubAudit(ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger(Category);
        _time = time ?? TimeProvider.System;
        _updated = _time.GetTimestamp();
    }

    /// <summary>Records a refused request.</summary>
    /// <param name="context">The request.</param>
    /// <param name="reason">Why (<c>wrong API key</c>), without the secret.</param>
    public void Refused(HttpContext context, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_logger.IsEnabled(LogLevel.Warning) || !TryTake(out var suppressed))
        {
            return;
        }

        LogRefused(_logger, context.Request.Method, Clip(context.Request.Path.Value), context.Connection.RemoteIpAddress?.ToString() ?? "-", reason, suppressed);
    }

    /// <summary>Records an action taken through the dashboard.</summary>
    /// <param name="context">The request.</param>
    /// <param name="who">Who acted (<c>dashboard user admin</c>, <c>API key</c>).</param>
    /// <param name="action">What was done (<c>disconnect socket abc in /chat</c>).</param>
    public void Action(HttpContext context, string who, string action)
    {
        ArgumentNullException.ThrowIfNull(context);
        LogAction(_logger, who, action, context.Connection.RemoteIpAddress?.ToString() ?? "-");
    }

    private bool TryTake(out int suppressed)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + (Math.Max(0, (double)(now - _updated) / _time.TimestampFrequency) * PermitsPerSecond));
            _updated = now;
            if (_tokens < 1)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }

            _tokens -= 1;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }

    /// <summary>A client-supplied string fit for one log line: at most 200 characters, no control character.</summary>
    internal static string Clip(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var clipped = value.Length <= 200 ? value : value[..200] + "…";
        return clipped.Any(char.IsControl) ? new string([.. clipped.Select(c => char.IsControl(c) ? '?' : c)]) : clipped;
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused {Method} {Path} from {RemoteAddress}: {Reason} ({Suppressed} earlier refusals not logged)", EventName = "Refused")]
    private static partial void LogRefused(ILogger logger, string method, string path, string remoteAddress, string reason, int suppressed);

    [LoggerMessage(2, LogLevel.Information, "Admin action by {Who} from {RemoteAddress}: {Action}", EventName = "AdminAction")]
    private static partial void LogAction(ILogger logger, string who, string action, string remoteAddress);
}
