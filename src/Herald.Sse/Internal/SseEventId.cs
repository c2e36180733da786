using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Herald.Protocol.Sse;

namespace Herald.Sse.Internal;

/// <summary>
/// Event ids and client ids.
/// <para>The <c>id:</c> a client sees is <c>{instance}-{seq}.{clientId}.{proof}</c>: <c>instance</c> is a random tag
/// of this server instance (base-36, no '-' or '.'), <c>seq</c> the server-wide monotonic sequence, <c>clientId</c>
/// the client's own id, <c>proof</c> 128 bits of HMAC-SHA256 over the client id and its owner under
/// <see cref="SseOptions.ResumeKey"/> (base64url, 22 characters). EventSource sends it back as <c>Last-Event-ID</c> on
/// reconnect, which tells us who reconnects and from where. The id alone is public (the open event, logs, the
/// application addressing it); only the proof, which nobody can compute without the key, lets a reconnect take the
/// id back, and only for the same owner (the session). The first '.' ends the sequence and the last '.' starts the
/// proof, so a client id given by the authorization hook may itself contain dots.</para>
/// </summary>
internal static class SseEventId
{
    private static readonly System.Buffers.SearchValues<char> s_tagChars = System.Buffers.SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyz");

    public static string NewInstanceTag()
    {
        Span<byte> bytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(bytes);
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> chars = stackalloc char[10];
        for (var i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = digits[(int)(value % 36)];
            value /= 36;
        }

        return new string(chars);
    }

    /// <summary>128 random bits from a cryptographic source, base64url without padding (22 characters).</summary>
    public static string NewClientId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool IsValidClientId(string id, int maxLength)
        => id.Length > 0 && id.Length <= maxLength && SseFrameWriter.IsValidField(id);

    /// <summary>True for a name in the reserved <c>herald:</c> space (any case): never accepted from a client.</summary>
    public static bool IsReserved(string name) => name.StartsWith("herald:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The length of a proof: 16 bytes of HMAC-SHA256, base64url.</summary>
    public const int ProofLength = 22;

    /// <summary>The resume proof of <paramref name="clientId"/> owned by <paramref name="owner"/>: computed once per client.</summary>
    public static string ComputeProof(byte[] key, string clientId, string? owner)
    {
        var text = clientId + "\0" + owner;
        var input = System.Text.Encoding.UTF8.GetBytes(text);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, input, mac);
        return Base64Url.EncodeToString(mac[..16]);
    }

    /// <summary>Whether <paramref name="proof"/> is the proof of <paramref name="clientId"/> for <paramref name="owner"/> (constant time).</summary>
    public static bool VerifyProof(byte[] key, string clientId, string? owner, string proof)
    {
        var expected = ComputeProof(key, clientId, owner);
        return CryptographicOperations.FixedTimeEquals(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan()),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(proof.AsSpan()));
    }

    /// <summary>Parses <c>{instance}-{seq}.{clientId}.{proof}</c>.</summary>
    public static bool TryParse(string value, int maxClientIdLength, out string instance, out long seq, out string clientId, out string proof)
    {
        instance = "";
        seq = 0;
        clientId = "";
        proof = "";
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        var last = value.LastIndexOf('.');
        if (dot <= 0 || last <= dot || value.Length - last - 1 != ProofLength)
        {
            return false;
        }

        var head = value.AsSpan(0, dot);
        var dash = head.IndexOf('-');
        if (dash <= 0 || !long.TryParse(head[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out seq))
        {
            return false;
        }

        // Our tags are 10 base-36 characters; anything else is not ours nor another node's (and is echoed in replays).
        if (dash > 16 || head[..dash].ContainsAnyExcept(s_tagChars))
        {
            return false;
        }

        var id = value[(dot + 1)..last];
        if (!IsValidClientId(id, maxClientIdLength))
        {
            return false;
        }

        instance = head[..dash].ToString();
        clientId = id;
        proof = value[(last + 1)..];
        return true;
    }

    /// <summary>Writes the per-client id line for <paramref name="seq"/>: shared prefix, digits, per-client suffix.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> prefix, long seq, ReadOnlySpan<byte> suffix)
    {
        prefix.CopyTo(destination);
        Utf8Formatter.TryFormat(seq, destination[prefix.Length..], out var digits);
        var length = prefix.Length + digits;
        suffix.CopyTo(destination[length..]);
        return length + suffix.Length;
    }
}
