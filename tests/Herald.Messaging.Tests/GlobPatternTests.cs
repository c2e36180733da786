using Herald.Messaging.Internal;

namespace Herald.Messaging.Tests;

/// <summary>The in-memory bus matches patterns like Redis PSUBSCRIBE.</summary>
public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("orders.*", "orders.created", true)]
    [InlineData("orders.*", "orders.", true)]
    [InlineData("orders.*", "orders.paid.eu", true)]
    [InlineData("orders.*", "orders", false)]
    [InlineData("orders.*", "users.created", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("a**c", "abc", true)]
    [InlineData("*.created", "orders.created", true)]
    [InlineData("*.created", "orders.created.x", false)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-c]llo", "hbllo", true)]
    [InlineData("h[c-a]llo", "hbllo", true)]
    [InlineData("h[a-c]llo", "hdllo", false)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("h[\\]]llo", "h]llo", true)]
    [InlineData("Orders.*", "orders.x", false)]
    [InlineData("room:*:msg", "room:42:msg", true)]
    [InlineData("room:*:msg", "room:42:msg:x", false)]
    public void MatchesLikeRedis(string pattern, string text, bool expected)
        => Assert.Equal(expected, GlobPattern.IsMatch(pattern, text));

    [Theory]
    [InlineData("topic:", false)]
    [InlineData("herald", false)]
    [InlineData("a*", true)]
    [InlineData("a?", true)]
    [InlineData("a[", true)]
    [InlineData("a\\", true)]
    public void DetectsSpecialCharacters(string text, bool expected)
        => Assert.Equal(expected, GlobPattern.HasSpecialCharacters(text));
}
