namespace Herald.Messaging.Internal;

/// <summary>
/// Glob matching with the semantics of Redis <c>PSUBSCRIBE</c>, so that the in-memory bus and the Redis
/// bus deliver a pattern subscription the same messages: <c>*</c> any run of characters (dots and
/// separators included), <c>?</c> exactly one character, <c>[abc]</c> / <c>[^abc]</c> / <c>[a-z]</c>
/// classes, and <c>\x</c> a literal <c>x</c>. Matching is ordinal and case-sensitive.
/// </summary>
/// <remarks>
/// <para>Public as a building block for <see cref="IMessageBus"/> implementations (Herald.Redis, a third-party bus), so
/// that every bus delivers with the same ordering and pattern semantics; applications do not need it.</para>
/// </remarks>
public static class GlobPattern
{
    /// <summary>True when <paramref name="text"/> holds a character with a meaning in a pattern.</summary>
    /// <param name="text">The text.</param>
    /// <returns>True when it has one.</returns>
    public static bool HasSpecialCharacters(ReadOnlySpan<char> text) => text.IndexOfAny("*?[]\\") >= 0;

    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/> entirely.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="text">The text.</param>
    /// <returns>True on a match.</returns>
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Greedy two-pointer matching: '*' is the only token of variable width, so on a mismatch it is
        // enough to go back to the last '*' and let it swallow one more character.
        var p = 0;
        var t = 0;
        var starP = -1;
        var starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == '*')
                {
                    while (p < pattern.Length && pattern[p] == '*')
                    {
                        p++;
                    }

                    if (p == pattern.Length)
                    {
                        return true;
                    }

                    starP = p;
                    starT = t;
                    continue;
                }

                if (TryMatchOne(pattern, ref p, text[t]))
                {
                    t++;
                    continue;
                }
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP;
            t = ++starT;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    // Matches one text character against the token at pattern[p]; on success moves p past the token.
    private static bool TryMatchOne(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        switch (pattern[p])
        {
            case '?':
                p++;
                return true;
            case '\\' when p + 1 < pattern.Length:
                if (pattern[p + 1] != c)
                {
                    return false;
                }

                p += 2;
                return true;
            case '[':
                return MatchClass(pattern, ref p, c);
            default:
                if (pattern[p] != c)
                {
                    return false;
                }

                p++;
                return true;
        }
    }

    private static bool MatchClass(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        var i = p + 1;
        var negate = i < pattern.Length && pattern[i] == '^';
        if (negate)
        {
            i++;
        }

        var matched = false;
        while (i < pattern.Length && pattern[i] != ']')
        {
            if (pattern[i] == '\\' && i + 1 < pattern.Length)
            {
                matched |= pattern[i + 1] == c;
                i += 2;
            }
            else if (i + 2 < pattern.Length && pattern[i + 1] == '-' && pattern[i + 2] != ']')
            {
                var low = pattern[i];
                var high = pattern[i + 2];
                if (low > high)
                {
                    (low, high) = (high, low);
                }

                matched |= c >= low && c <= high;
                i += 3;
            }
            else
            {
                matched |= pattern[i] == c;
                i++;
            }
        }

        // Like Redis, an unterminated class ends at the end of the pattern.
        p = i < pattern.Length ? i + 1 : i;
        return matched != negate;
    }
}
