using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Hosting;

/// <summary>
/// Derives the hub's keys from <see cref="HubOptions.Secret"/>: one secret to share between the nodes of a cluster
/// instead of one per mechanism, and keys that differ per use, so a value signed for one purpose is never valid for
/// another.
/// </summary>
public static class HubSecret
{
    /// <summary>The shortest secret accepted.</summary>
    public const int MinLength = 32;

    /// <summary>HKDF label of the <c>herald.sid</c> signing key.</summary>
    public const string SessionCookieLabel = "herald/sessions/cookie/v1";

    /// <summary>HKDF label of the SSE resume key.</summary>
    public const string SseResumeLabel = "herald/sse/resume/v1";

    /// <summary>
    /// The key for <paramref name="label"/>: 32 bytes of HKDF-SHA256 over the secret, base64 (44 characters), or
    /// <c>null</c> when no secret is set (the component then draws a random key per process).
    /// </summary>
    /// <param name="secret">The configured secret, or <c>null</c>.</param>
    /// <param name="label">What the key is for.</param>
    /// <returns>The derived key, or <c>null</c>.</returns>
    public static string? Derive(string? secret, string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (string.IsNullOrEmpty(secret))
        {
            return null;
        }

        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: Encoding.UTF8.GetBytes(label));
        return Convert.ToBase64String(key);
    }
}
