using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Hosting;

/// <summary>
/// The credentials the publish API and the dashboard accept: API keys (<c>Authorization: Bearer KEY</c> or
/// <c>X-Herald-Key: KEY</c>) and, for the dashboard, basic auth. Only SHA-256 hashes are kept, and every comparison is
/// constant-time over equal-length hashes, so neither timing nor length tells an attacker how close a guess was.
/// </summary>
public sealed partial class HubKeys
{
    /// <summary>The header that carries an API key (besides <c>Authorization: Bearer</c>).</summary>
    public const string KeyHeader = "X-Herald-Key";

    private readonly byte[][] _keyHashes;
    private readonly byte[]? _basicHash;
    private readonly string? _basicUser;

    private HubKeys(byte[][] keyHashes, byte[]? basicHash, string? basicUser, string? generatedKey)
    {
        _keyHashes = keyHashes;
        _basicHash = basicHash;
        _basicUser = basicUser;
        GeneratedKey = generatedKey;
    }

    /// <summary>The key generated at start because none was configured (logged once), or null.</summary>
    public string? GeneratedKey { get; }

    /// <summary>Whether basic auth is configured for the dashboard.</summary>
    public bool HasBasic => _basicHash is not null;

    /// <summary>
    /// Builds the keys from <paramref name="options"/>. When neither an API key nor a dashboard password is configured,
    /// a random key is generated and logged, so that a fresh <c>dotnet run</c> has a usable but private dashboard.
    /// </summary>
    /// <param name="options">The hub options.</param>
    /// <param name="logger">Where the generated key is told.</param>
    /// <param name="logGeneratedKey">
    /// Whether a generated key is written to the log (the hub: in the Development environment only). Otherwise the
    /// key is known to nobody, so the API and the dashboard refuse every request until credentials are configured, and
    /// no secret lands in a production log.
    /// </param>
    /// <returns>The keys.</returns>
    public static HubKeys Create(HubOptions options, ILogger logger, bool logGeneratedKey = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = options.ApiKeys.Where(k => !string.IsNullOrEmpty(k)).Select(Hash).ToList();
        byte[]? basic = string.IsNullOrEmpty(options.Admin.Username) ? null : Hash(options.Admin.Username + ":" + options.Admin.Password);
        string? generated = null;
        if (keys.Count == 0 && basic is null)
        {
            generated = Base64UrlEncode(RandomNumberGenerator.GetBytes(24));
            keys.Add(Hash(generated));
            if (logGeneratedKey)
            {
                LogGeneratedKey(logger, generated);
            }
            else
            {
                LogNoCredentials(logger);
            }
        }

        return new HubKeys([.. keys], basic, basic is null ? null : options.Admin.Username, generated);
    }

    /// <summary>Whether the request carries a valid API key (or, when <paramref name="allowBasic"/>, valid basic credentials).</summary>
    /// <param name="request">The request.</param>
    /// <param name="allowBasic">Whether basic auth is accepted (dashboard).</param>
    /// <returns>True when authorized.</returns>
    public bool IsAuthorized(HttpRequest request, bool allowBasic) => Authenticate(request, allowBasic).Authorized;

    /// <summary>
    /// Checks the request's credentials and says who it is or why it was refused, in words fit for an audit line: the
    /// secret itself never appears (<c>"API key"</c>, <c>"dashboard user admin"</c>; <c>"wrong API key"</c>).
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="allowBasic">Whether basic auth is accepted (dashboard).</param>
    /// <returns>Whether it is authorized, and who or why not.</returns>
    public (bool Authorized, string Description) Authenticate(HttpRequest request, bool allowBasic)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? authorization = request.Headers.Authorization;
        if (authorization is not null)
        {
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return MatchesKey(authorization.AsSpan(7).Trim()) ? (true, "API key") : (false, "wrong API key (Bearer)");
            }

            if (allowBasic && _basicHash is not null && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return MatchesBasic(authorization.AsSpan(6).Trim()) ? (true, "dashboard user " + _basicUser) : (false, "wrong dashboard credentials");
            }
        }

        string? key = request.Headers[KeyHeader];
        if (key is null)
        {
            return (false, authorization is null ? "no credentials" : "unsupported Authorization scheme");
        }

        return MatchesKey(key) ? (true, "API key") : (false, "wrong API key (" + KeyHeader + ")");
    }

    private bool MatchesKey(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.Length > 512)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashInto(presented, hash);
        var match = false;
        foreach (var k in _keyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, k); // no early exit: every key is compared
        }

        return match;
    }

    private bool MatchesBasic(ReadOnlySpan<char> encoded)
    {
        if (encoded.Length > 1024)
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[768];
        if (!Convert.TryFromBase64Chars(encoded, raw, out var length))
        {
            return false;
        }

        Span<char> chars = stackalloc char[768];
        if (!Encoding.UTF8.TryGetChars(raw[..length], chars, out var count))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashInto(chars[..count], hash);
        return CryptographicOperations.FixedTimeEquals(hash, _basicHash);
    }

    private static byte[] Hash(string value)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        HashInto(value, hash);
        return hash;
    }

    private static void HashInto(ReadOnlySpan<char> value, Span<byte> hash)
    {
        var bytes = Encoding.UTF8.GetBytes(value.ToArray());
        SHA256.HashData(bytes, hash);
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [LoggerMessage(2, LogLevel.Warning, "No Herald:ApiKeys nor Herald:Admin credentials are configured: the publish API and the dashboard (/admin) refuse every request until they are (a key is generated and logged in the Development environment only).")]
    private static partial void LogNoCredentials(ILogger logger);

    [LoggerMessage(1, LogLevel.Warning, "No Herald:ApiKeys nor Herald:Admin credentials are configured: the publish API and the dashboard (/admin) accept this generated key until the hub stops: {Key}")]
    private static partial void LogGeneratedKey(ILogger logger, string key);
}
