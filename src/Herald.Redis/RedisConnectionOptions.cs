using System.Globalization;

namespace Herald.Redis;

/// <summary>
/// Where and how to connect to Redis. Built from a StackExchange.Redis style connection string with
/// <see cref="Parse"/>: <c>"localhost:6379,password=secret,defaultDatabase=0"</c>.
/// </summary>
public sealed class RedisConnectionOptions
{
    /// <summary>The host name or address (default <c>localhost</c>).</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>The port (default 6379).</summary>
    public int Port { get; set; } = 6379;

    /// <summary>The ACL user (<c>user=</c>); null for the default user.</summary>
    public string? User { get; set; }

    /// <summary>The password (<c>password=</c>); null for none.</summary>
    public string? Password { get; set; }

    /// <summary>The database selected on every connection (<c>defaultDatabase=</c>); pub/sub ignores it.</summary>
    public int Database { get; set; }

    /// <summary>The client name shown by <c>CLIENT LIST</c> (<c>name=</c>); the role (cmd/sub) is appended.</summary>
    public string? ClientName { get; set; }

    /// <summary>How long one connection attempt (TCP connect and handshake) may take (<c>connectTimeout=</c>, ms; default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a command waits for a connection when there is none, and for a free slot when
    /// <see cref="MaxPendingCommands"/> are pending (<c>syncTimeout=</c>/<c>asyncTimeout=</c>, ms; default 5 s).
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first delay before reconnecting; doubled after each failure (default 100 ms).</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between reconnection attempts (default 5 s).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most commands queued or awaiting their reply at once; more wait (default 10,000).</summary>
    public int MaxPendingCommands { get; set; } = 10_000;

    /// <summary>The longest bulk string accepted from the server (default 512 MiB).</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>The clock for backoff delays (tests inject their own).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Parses a connection string: endpoints (<c>host</c>, <c>host:port</c>, <c>[::1]:port</c>; only the
    /// first is used) and <c>key=value</c> options separated by commas: <c>password</c>, <c>user</c>,
    /// <c>defaultDatabase</c>, <c>name</c>, <c>connectTimeout</c>, <c>syncTimeout</c>, <c>asyncTimeout</c>.
    /// StackExchange.Redis options that do not apply here (<c>abortConnect</c>, <c>keepAlive</c>,
    /// <c>allowAdmin</c>, ...) are accepted and ignored; <c>ssl=true</c> is refused (not supported yet).
    /// </summary>
    /// <exception cref="FormatException">The string is not a valid connection string.</exception>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var options = new RedisConnectionOptions();
        var sawEndpoint = false;
        foreach (var raw in connectionString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (!sawEndpoint)
                {
                    ParseEndpoint(raw, options);
                    sawEndpoint = true;
                }

                continue;
            }

            var key = raw[..eq].Trim();
            var value = raw[(eq + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password":
                    options.Password = value;
                    break;
                case "user":
                    options.User = value;
                    break;
                case "defaultdatabase":
                    options.Database = ParseInt(key, value);
                    break;
                case "name":
                    options.ClientName = value;
                    break;
                case "connecttimeout":
                    options.ConnectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value));
                    break;
                case "synctimeout":
                case "asynctimeout":
                    options.CommandTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value));
                    break;
                case "ssl":
                    if (bool.TryParse(value, out var ssl) && ssl)
                    {
                        throw new FormatException("ssl=true is not supported by Herald.Redis yet.");
                    }

                    break;
                case "abortconnect":
                case "keepalive":
                case "allowadmin":
                case "connectretry":
                case "resolvedns":
                case "servicename":
                case "tiebreaker":
                case "version":
                case "channelprefix":
                case "configchannel":
                case "proxy":
                case "protocol":
                    break;
                default:
                    throw new FormatException($"Unknown Redis connection string option '{key}'.");
            }
        }

        return options;
    }

    private static void ParseEndpoint(string endpoint, RedisConnectionOptions options)
    {
        string host;
        string? port = null;
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"Invalid endpoint '{endpoint}'.");
            }

            host = endpoint[1..close];
            if (close + 1 < endpoint.Length)
            {
                if (endpoint[close + 1] != ':')
                {
                    throw new FormatException($"Invalid endpoint '{endpoint}'.");
                }

                port = endpoint[(close + 2)..];
            }
        }
        else
        {
            var colon = endpoint.LastIndexOf(':');
            host = colon < 0 ? endpoint : endpoint[..colon];
            port = colon < 0 ? null : endpoint[(colon + 1)..];
        }

        if (host.Length == 0)
        {
            throw new FormatException($"Invalid endpoint '{endpoint}'.");
        }

        options.Host = host;
        if (port is not null)
        {
            var p = ParseInt("port", port);
            if (p is < 1 or > 65535)
            {
                throw new FormatException($"Invalid port in '{endpoint}'.");
            }

            options.Port = p;
        }
    }

    private static int ParseInt(string key, string value)
        => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= 0
            ? result
            : throw new FormatException($"Invalid value '{value}' for '{key}'.");

    /// <summary>The endpoint as <c>host:port</c>, for logs.</summary>
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
