using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Herald.Protocol.Sse;

namespace Herald.Sse.Internal;

/// <summary>
/// Event ids, resume tokens and client ids.
/// <para>The <c>id:</c> a client sees is <c>{instance}-{seq}.{token}</c>: <c>instance</c> is a random tag of this server
/// instance (base-36, no '-' or '.'), <c>seq</c> the server-wide monotonic sequence, <c>token</c> the client's resume
/// token (22 base64url characters). EventSource sends it back as <c>Last-Event-ID</c> on reconnect, which tells us who
/// reconnects and from where.</para>
/// <para>The token is not the client id. For a server-assigned id the token is 128 random bits and the client id is
/// derived from it: <c>clientId = base64url(HMAC-SHA256(ResumeKey, "c" NUL token NUL owner)[..16])</c>. So the public
/// client id (the open event, logs, the application addressing it) does not reveal the token, a token replayed under
/// another owner (another session) names another, unknown client, and a node sharing the key finds the same id. For an
/// id given by the authorization hook the token is <c>HMAC(ResumeKey, "h" NUL clientId NUL owner)</c>, checked on
/// resume. Same length as the 22-character client id the line carried before: no per-event cost.</para>
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

    /// <summary>The length of a resume token: 16 bytes, base64url.</summary>
    public const int TokenLength = 22;

    /// <summary>A new resume token: 128 random bits from a cryptographic source.</summary>
    public static string NewToken() => NewClientId();

    /// <summary>The client id of a server-assigned client with resume token <paramref name="token"/> and <paramref name="owner"/>.</summary>
    public static string ClientIdFor(byte[] key, string token, string? owner) => Mac(key, "c\0" + token + "\0" + owner);

    /// <summary>The resume token of a client whose id the authorization hook gave.</summary>
    public static string TokenForHookId(byte[] key, string clientId, string? owner) => Mac(key, "h\0" + clientId + "\0" + owner);

    /// <summary>Constant-time equality of two tokens.</summary>
    public static bool TokensEqual(string a, string b)
        => CryptographicOperations.FixedTimeEquals(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));

    private static string Mac(byte[] key, string text)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes(text), mac);
        return Base64Url.EncodeToString(mac[..16]);
    }

    /// <summary>Parses <c>{instance}-{seq}.{token}</c>.</summary>
    public static bool TryParse(string value, out string instance, out long seq, out string token)
    {
        instance = "";
        seq = 0;
        token = "";
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || value.Length - dot - 1 != TokenLength)
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

        var tail = value.AsSpan(dot + 1);
        foreach (var c in tail)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        instance = head[..dash].ToString();
        token = tail.ToString();
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
