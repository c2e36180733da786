namespace Herald.Identity;

/// <summary>
/// The answer to a token check: either the user, channels and expiry the token grants, or a refusal with a stable
/// <see cref="ErrorCode"/> (sent to the client as <c>connect_error</c> data <c>{message, code}</c>, or in the SSE 401's
/// <c>WWW-Authenticate</c> header).
/// </summary>
public sealed class TokenValidationOutcome
{
    private TokenValidationOutcome(string? userId, IReadOnlyList<string> channels, string? channel, DateTimeOffset? expiresAt, string? errorCode, string? errorMessage)
    {
        UserId = userId;
        Channels = channels;
        Channel = channel;
        ExpiresAt = expiresAt;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>Whether the token is valid.</summary>
    public bool IsValid => ErrorCode is null;

    /// <summary>The user id (<c>sub</c>).</summary>
    public string? UserId { get; }

    /// <summary>The channels of a connection token's <c>channels</c> claim (empty when absent).</summary>
    public IReadOnlyList<string> Channels { get; }

    /// <summary>The channel of a channel token's <c>channel</c> claim.</summary>
    public string? Channel { get; }

    /// <summary>When the token expires, or <c>null</c> when it has no <c>exp</c>.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Why it was refused: one of the <see cref="TokenErrorCodes"/>, or <c>null</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>A human-readable reason (never the token itself).</summary>
    public string? ErrorMessage { get; }

    internal static TokenValidationOutcome Valid(string userId, IReadOnlyList<string> channels, string? channel, DateTimeOffset? expiresAt)
        => new(userId, channels, channel, expiresAt, null, null);

    internal static TokenValidationOutcome Fail(string code, string message) => new(null, [], null, null, code, message);
}

/// <summary>The <c>code</c> of a refused token (<c>connect_error</c> data, SSE <c>WWW-Authenticate</c>, acks).</summary>
public static class TokenErrorCodes
{
    /// <summary>No token, and <see cref="HeraldIdentityOptions.Required"/> is set.</summary>
    public const string Required = "token_required";

    /// <summary>Not a well-formed JWT, signed with an algorithm not allowed (<c>none</c> included), or too long.</summary>
    public const string Malformed = "token_malformed";

    /// <summary>The signature does not verify with any configured key (forged, or an unknown <c>kid</c>).</summary>
    public const string InvalidSignature = "token_invalid_signature";

    /// <summary><c>exp</c> is in the past (beyond the clock skew).</summary>
    public const string Expired = "token_expired";

    /// <summary><c>nbf</c> is in the future, or <c>exp</c> is missing while required.</summary>
    public const string InvalidLifetime = "token_invalid_lifetime";

    /// <summary><c>iss</c> is not <see cref="HeraldIdentityOptions.Issuer"/>.</summary>
    public const string InvalidIssuer = "token_invalid_issuer";

    /// <summary><c>aud</c> is not <see cref="HeraldIdentityOptions.Audience"/>.</summary>
    public const string InvalidAudience = "token_invalid_audience";

    /// <summary>The claims are missing or out of bounds (no <c>sub</c>, a bad channel name, too many channels).</summary>
    public const string InvalidClaims = "token_invalid_claims";

    /// <summary>The key set could not be fetched: the token cannot be checked, so it is refused.</summary>
    public const string KeysUnavailable = "token_keys_unavailable";

    /// <summary>A refreshed token names another user than the connection's.</summary>
    public const string UserMismatch = "token_user_mismatch";
}
