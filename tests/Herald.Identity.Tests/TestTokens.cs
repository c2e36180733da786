using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>Keys and tokens as an application's backend would make them (signed by Microsoft.IdentityModel).</summary>
internal static class TestTokens
{
    public const string Issuer = "https://app.example";
    public const string Audience = "herald";
    public const string Secret = "a-shared-secret-of-at-least-32-bytes!!";

    public static readonly SymmetricSecurityKey HmacKey = new(Encoding.UTF8.GetBytes(Secret));
    public static readonly RsaSecurityKey RsaKey = new(RSA.Create(2048)) { KeyId = "rsa-1" };
    public static readonly ECDsaSecurityKey EcKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ec-1" };

    public static string RsaPublicPem => RsaKey.Rsa.ExportSubjectPublicKeyInfoPem();

    public static string EcPublicPem => EcKey.ECDsa.ExportSubjectPublicKeyInfoPem();

    public static string Create(
        SecurityKey key,
        string algorithm,
        string sub = "alice",
        IEnumerable<string>? channels = null,
        string? channel = null,
        string issuer = Issuer,
        string audience = Audience,
        DateTime? expires = null)
    {
        var exp = expires ?? DateTime.UtcNow.AddMinutes(5);
        var issued = exp < DateTime.UtcNow ? exp.AddMinutes(-10) : DateTime.UtcNow.AddMinutes(-1);
        var claims = new Dictionary<string, object> { ["sub"] = sub };
        if (channels is not null)
        {
            claims["channels"] = channels.ToArray();
        }

        if (channel is not null)
        {
            claims["channel"] = channel;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issued,
            NotBefore = issued,
            Expires = exp,
            SigningCredentials = new SigningCredentials(key, algorithm),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with otherwise valid claims.</summary>
    public static string Unsigned(string sub = "alice")
    {
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64Url($$"""{"sub":"{{sub}}","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}},"channels":["news"]}""");
        return header + "." + payload + ".";
    }

    /// <summary>A token whose payload was changed after signing (same header and signature).</summary>
    public static string Tampered(string token, string newSub)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        payload = payload.Replace("\"sub\":\"alice\"", "\"sub\":\"" + newSub + "\"", StringComparison.Ordinal);
        return parts[0] + "." + Base64Url(payload) + "." + parts[2];
    }

    public static string Base64Url(string text) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(text));
}
