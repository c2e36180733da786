using Herald.Messaging;
using Herald.Redis;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>
/// Checks <see cref="HubOptions"/> at start. Every failure names the setting as it is written in configuration
/// (<c>Herald:Redis:ConnectionString</c>), so that <c>Herald__Redis__ConnectionString</c> or
/// <c>--Herald:Redis:ConnectionString</c> can be fixed without reading code.
/// </summary>
public sealed class HubOptionsValidator : IValidateOptions<HubOptions>
{
    /// <summary>The shortest API key or channel key accepted.</summary>
    public const int MinKeyLength = 16;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, HubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void Fail(string key, string message) => errors.Add($"{HubOptions.Section}:{key}: {message}");

        if (options.NodeName is { Length: > 0 } node && !HeraldNode.IsValidName(node))
        {
            Fail("NodeName", $"'{node}' is not a valid node name (ASCII letters, digits, '.', '-', '_', ':', at most 128 characters).");
        }

        CheckPath(options.SocketIOPath, "SocketIOPath", Fail);
        CheckPath(options.SsePath, "SsePath", Fail);
        for (var i = 0; i < options.Namespaces.Count; i++)
        {
            var ns = options.Namespaces[i];
            if (string.IsNullOrEmpty(ns) || ns[0] != '/')
            {
                Fail($"Namespaces:{i}", $"'{ns}' must start with '/' (e.g. '/orders', '/tenant-*').");
            }
            else if (ns.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != ns.Length - 1)
            {
                Fail($"Namespaces:{i}", $"'{ns}': '*' is only allowed at the end.");
            }
        }

        for (var i = 0; i < options.Cors.Origins.Count; i++)
        {
            var origin = options.Cors.Origins[i];
            if (origin == "*")
            {
                if (options.Cors.Credentials)
                {
                    Fail("Cors:Credentials", "cannot be true with the origin '*' (browsers refuse it); list the origins.");
                }
            }
            else if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                Fail($"Cors:Origins:{i}", $"'{origin}' is not an origin (scheme://host[:port], no path) nor '*'.");
            }
        }

        var limits = options.Limits;
        if (limits.MaxPayloadBytes < 1024)
        {
            Fail("Limits:MaxPayloadBytes", $"{limits.MaxPayloadBytes} is too small (at least 1024).");
        }

        if (limits.MaxPublishBodyBytes < 1024)
        {
            Fail("Limits:MaxPublishBodyBytes", $"{limits.MaxPublishBodyBytes} is too small (at least 1024).");
        }

        if (limits.MaxBatchCommands is < 1 or > 10_000)
        {
            Fail("Limits:MaxBatchCommands", $"{limits.MaxBatchCommands} is out of range (1 to 10000).");
        }

        if (limits.MaxListItems is < 1 or > 10_000)
        {
            // 10,000: the most rooms a cluster envelope carries (ClusterEnvelopeLimits.MaxRooms); more would be dropped.
            Fail("Limits:MaxListItems", $"{limits.MaxListItems} is out of range (1 to 10000, the most rooms a cluster envelope carries).");
        }

        if (limits.MaxChannelsPerPublish is < 1 or > 1000)
        {
            // 4,000 channels cost ~37 s of CPU before the cap existed (issue 13): the work grows with the square.
            Fail("Limits:MaxChannelsPerPublish", $"{limits.MaxChannelsPerPublish} is out of range (1 to 1000; the work grows with its square).");
        }

        if (limits.MaxSseClients < 1)
        {
            Fail("Limits:MaxSseClients", $"{limits.MaxSseClients} must be positive.");
        }

        if (!string.IsNullOrWhiteSpace(options.Redis.ConnectionString))
        {
            try
            {
                RedisConnectionOptions.Parse(options.Redis.ConnectionString);
            }
            catch (FormatException e)
            {
                Fail("Redis:ConnectionString", e.Message);
            }
        }

        if (options.Redis.ChannelPrefix is null || options.Redis.ChannelPrefix.IndexOfAny(['*', '?', '[', ']', '\\']) >= 0)
        {
            Fail("Redis:ChannelPrefix", $"'{options.Redis.ChannelPrefix}' must not contain the pattern characters *?[]\\.");
        }

        if (options.Secret is { Length: < HubSecret.MinLength })
        {
            Fail("Secret", $"is too short (at least {HubSecret.MinLength} characters).");
        }

        if (options.ChannelKey is { Length: > 0 and < MinKeyLength })
        {
            Fail("ChannelKey", $"is too short (at least {MinKeyLength} characters).");
        }

        for (var i = 0; i < options.PeerLinks.Count; i++)
        {
            var peer = options.PeerLinks[i];
            if (peer.Name is null || !HeraldNode.IsValidName(peer.Name))
            {
                Fail($"PeerLinks:{i}:Name", $"'{peer.Name}' is not a valid node name.");
            }

            if (!Uri.TryCreate(peer.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss" or "http" or "https"))
            {
                Fail($"PeerLinks:{i}:Url", $"'{peer.Url}' is not an absolute ws://, wss://, http:// or https:// URL.");
            }
        }

        if (options.PeerLinks.Count > 0 && string.IsNullOrEmpty(options.ChannelKey))
        {
            Fail("ChannelKey", "is required when Herald:PeerLinks lists peers (the links authenticate with it).");
        }

        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.ApiKeys[i]) || options.ApiKeys[i].Length < MinKeyLength)
            {
                Fail($"ApiKeys:{i}", $"is too short (at least {MinKeyLength} characters).");
            }
        }

        var admin = options.Admin;
        if (string.IsNullOrEmpty(admin.Username) != string.IsNullOrEmpty(admin.Password))
        {
            Fail(string.IsNullOrEmpty(admin.Username) ? "Admin:Username" : "Admin:Password", "Herald:Admin:Username and Herald:Admin:Password go together.");
        }
        else if (admin.Password is { Length: > 0 and < 12 })
        {
            Fail("Admin:Password", "is too short (at least 12 characters).");
        }
        else if (admin.Username?.Contains(':', StringComparison.Ordinal) == true)
        {
            Fail("Admin:Username", "must not contain ':'.");
        }

        if (!string.IsNullOrEmpty(options.OpenTelemetry.OtlpEndpoint)
            && (!Uri.TryCreate(options.OpenTelemetry.OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            Fail("OpenTelemetry:OtlpEndpoint", $"'{options.OpenTelemetry.OtlpEndpoint}' is not an absolute http(s) URL (e.g. http://collector:4318/v1/metrics).");
        }

        if (options.OpenTelemetry.ExportInterval < TimeSpan.FromMilliseconds(100))
        {
            Fail("OpenTelemetry:ExportInterval", $"{options.OpenTelemetry.ExportInterval} is too short (at least 00:00:00.1).");
        }

        if (options.Demo.ClockInterval < TimeSpan.FromMilliseconds(100))
        {
            Fail("Demo:ClockInterval", $"{options.Demo.ClockInterval} is too short (at least 00:00:00.1).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckPath(string path, string key, Action<string, string> fail)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            fail(key, $"'{path}' must be a path starting with '/'.");
        }
    }
}
