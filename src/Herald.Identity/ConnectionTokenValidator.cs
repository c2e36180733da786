using System.Security.Cryptography;
using System.Text;
using Herald.Messaging.Publish;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity;

/// <summary>
/// Checks connection tokens and channel tokens with Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>:
/// signature (only the algorithms of the configured key kind; unsigned <c>alg: none</c> tokens never pass), issuer,
/// audience, lifetime with clock skew; then Herald's claims (<c>sub</c>, <c>channels</c>, <c>channel</c>).
/// </summary>
public sealed class ConnectionTokenValidator : IDisposable
{
    private static readonly string[] s_hmacAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];
    private static readonly string[] s_rsaAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512];
    private static readonly string[] s_ecAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly HeraldIdentityOptions _options;
    private readonly IReadOnlyList<SecurityKey> _staticKeys;
    private readonly string[] _algorithms;
    private readonly JwksKeySource? _jwks;

    /// <summary>Creates the validator from <see cref="HeraldIdentityOptions"/>.</summary>
    /// <param name="options">The options: exactly one key source.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="InvalidOperationException">No key source, more than one, or a key that cannot be read.</exception>
    public ConnectionTokenValidator(IOptions<HeraldIdentityOptions> options, ILogger<ConnectionTokenValidator>? logger = null)
        : this(options, logger, null)
    {
    }

    internal ConnectionTokenValidator(IOptions<HeraldIdentityOptions> options, ILogger? logger, HttpMessageHandler? jwksHandler)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var sources = (_options.HmacSecret is null ? 0 : 1) + (_options.PublicKeyPem is null ? 0 : 1) + (_options.JwksUrl is null ? 0 : 1);
        if (sources > 1)
        {
            throw new InvalidOperationException("Herald identity takes one key source: HmacSecret, PublicKeyPem or JwksUrl.");
        }

        if (sources == 0)
        {
            if (_options.Proxy.ConnectUrl is null)
            {
                throw new InvalidOperationException("Herald identity needs a key source (HmacSecret, PublicKeyPem or JwksUrl) or a connect proxy (Proxy.ConnectUrl).");
            }

            _staticKeys = [];
            _algorithms = [];
        }
        else if (_options.HmacSecret is { } secret)
        {
            var bytes = Encoding.UTF8.GetBytes(secret);
            if (bytes.Length < 32)
            {
                throw new InvalidOperationException("HmacSecret must be at least 32 bytes (256 bits).");
            }

            _staticKeys = [new SymmetricSecurityKey(bytes)];
            _algorithms = s_hmacAlgorithms;
        }
        else if (_options.PublicKeyPem is { } pem)
        {
            var key = ReadPublicKey(pem);
            _staticKeys = [key];
            _algorithms = key is ECDsaSecurityKey ? s_ecAlgorithms : s_rsaAlgorithms;
        }
        else
        {
            _staticKeys = [];
            _algorithms = [.. s_rsaAlgorithms, .. s_ecAlgorithms];
            _jwks = new JwksKeySource(_options.JwksUrl!, _options, logger ?? NullLogger.Instance, jwksHandler);
        }
    }

    /// <summary>The options in force.</summary>
    public HeraldIdentityOptions Options => _options;

    /// <summary>Checks a connection token: a valid signature and lifetime, a <c>sub</c>, and an optional <c>channels</c> claim.</summary>
    /// <param name="token">The compact JWT.</param>
    /// <param name="cancellationToken">Cancels a key fetch.</param>
    /// <returns>The outcome.</returns>
    public ValueTask<TokenValidationOutcome> ValidateConnectionTokenAsync(string token, CancellationToken cancellationToken = default)
        => ValidateAsync(token, channelToken: false, cancellationToken);

    /// <summary>Checks a channel token: a valid signature and lifetime, a <c>sub</c> and a <c>channel</c>.</summary>
    /// <param name="token">The compact JWT.</param>
    /// <param name="cancellationToken">Cancels a key fetch.</param>
    /// <returns>The outcome.</returns>
    public ValueTask<TokenValidationOutcome> ValidateChannelTokenAsync(string token, CancellationToken cancellationToken = default)
        => ValidateAsync(token, channelToken: true, cancellationToken);

    private async ValueTask<TokenValidationOutcome> ValidateAsync(string token, bool channelToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > _options.MaxTokenLength || !_handler.CanReadToken(token))
        {
            return TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, "The token is not a well-formed JWT.");
        }

        JsonWebToken parsed;
        try
        {
            parsed = _handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, "The token is not a well-formed JWT.");
        }

        if (_algorithms.Length > 0 && Array.IndexOf(_algorithms, parsed.Alg) < 0)
        {
            // alg "none", or an algorithm of another key kind (e.g. HS256 against an RSA key): refused before any crypto.
            return TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, $"The token's algorithm '{parsed.Alg}' is not accepted.");
        }

        if (_algorithms.Length == 0)
        {
            return TokenValidationOutcome.Fail(TokenErrorCodes.KeysUnavailable, "This hub accepts no tokens (no key is configured).");
        }

        var keys = _staticKeys;
        if (_jwks is not null)
        {
            keys = await _jwks.GetKeysAsync(parsed.Kid, cancellationToken).ConfigureAwait(false);
            if (keys.Count == 0)
            {
                return TokenValidationOutcome.Fail(TokenErrorCodes.KeysUnavailable, "The signing keys could not be fetched.");
            }
        }

        var parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = _algorithms,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ValidateIssuer = _options.Issuer is not null,
            ValidIssuer = _options.Issuer,
            ValidateAudience = _options.Audience is not null,
            ValidAudience = _options.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = _options.RequireExpiration,
            ClockSkew = _options.ClockSkew,
            TryAllIssuerSigningKeys = _jwks is null,
        };
        var result = await _handler.ValidateTokenAsync(parsed, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return result.Exception switch
            {
                SecurityTokenExpiredException => TokenValidationOutcome.Fail(TokenErrorCodes.Expired, "The token has expired."),
                SecurityTokenNotYetValidException or SecurityTokenNoExpirationException or SecurityTokenInvalidLifetimeException
                    => TokenValidationOutcome.Fail(TokenErrorCodes.InvalidLifetime, "The token is not valid now (nbf), or has no exp."),
                SecurityTokenInvalidIssuerException => TokenValidationOutcome.Fail(TokenErrorCodes.InvalidIssuer, "The token's issuer is not accepted."),
                SecurityTokenInvalidAudienceException => TokenValidationOutcome.Fail(TokenErrorCodes.InvalidAudience, "The token's audience is not accepted."),
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSigningKeyException
                    => TokenValidationOutcome.Fail(TokenErrorCodes.InvalidSignature, "The token's signature does not verify."),
                SecurityTokenInvalidAlgorithmException => TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, "The token's algorithm is not accepted."),
                _ => TokenValidationOutcome.Fail(TokenErrorCodes.Malformed, "The token is not valid."),
            };
        }

        return ReadClaims(parsed, channelToken);
    }

    private TokenValidationOutcome ReadClaims(JsonWebToken token, bool channelToken)
    {
        var sub = token.Subject;
        if (!HeraldRooms.IsValidName(sub))
        {
            return TokenValidationOutcome.Fail(TokenErrorCodes.InvalidClaims, "The token has no valid 'sub' (1 to 200 characters).");
        }

        DateTimeOffset? expires = token.TryGetPayloadValue<long>("exp", out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;
        if (channelToken)
        {
            if (!token.TryGetPayloadValue<string>("channel", out var channel) || !HeraldRooms.IsValidName(channel))
            {
                return TokenValidationOutcome.Fail(TokenErrorCodes.InvalidClaims, "The channel token has no valid 'channel'.");
            }

            return TokenValidationOutcome.Valid(sub, [], channel, expires);
        }

        var channels = new List<string>();
        foreach (var claim in token.Claims)
        {
            if (claim.Type != "channels")
            {
                continue;
            }

            if (!HeraldRooms.IsValidName(claim.Value))
            {
                return TokenValidationOutcome.Fail(TokenErrorCodes.InvalidClaims, "A channel in 'channels' is not a valid name (1 to 200 characters).");
            }

            if (!channels.Contains(claim.Value))
            {
                channels.Add(claim.Value);
            }

            if (channels.Count > _options.MaxChannelsPerToken)
            {
                return TokenValidationOutcome.Fail(TokenErrorCodes.InvalidClaims, $"The token lists more than {_options.MaxChannelsPerToken} channels.");
            }
        }

        return TokenValidationOutcome.Valid(sub, channels, null, expires);
    }

    private static SecurityKey ReadPublicKey(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
        }

        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException("PublicKeyPem is neither an RSA nor an EC public key in PEM.", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _jwks?.Dispose();
}
