using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Herald.Protocol.Sse;

namespace Herald.Sse.Internal;

/// <summary>
/// Event ids and client ids.
/// <para>The <c>id:</c> a client sees is <c>{instance}-{seq}.{clientId}</c>: <c>instance</c> is a random tag of this
/// server instance (base-36, no '-' or '.'), <c>seq</c> the server-wide monotonic sequence, <c>clientId</c> the
/// client's own id. EventSource sends it back as <c>Last-Event-ID</c> on reconnect, which tells us who reconnects
/// and from where — without cookies (blocked cross-site, shared between tabs) and without the client knowing its id
/// when it built the URL. The first '.' separates the two halves, so a client id may itself contain dots.</para>
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

    /// <summary>Parses <c>{instance}-{seq}.{clientId}</c>.</summary>
    public static bool TryParse(string value, int maxClientIdLength, out string instance, out long seq, out string clientId)
    {
        instance = "";
        seq = 0;
        clientId = "";
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
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

        var id = value[(dot + 1)..];
        if (!IsValidClientId(id, maxClientIdLength))
        {
            return false;
        }

        instance = head[..dash].ToString();
        clientId = id;
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
