using Herald.Redis;

namespace Herald.Messaging.Tests;

public sealed class RedisConnectionOptionsTests
{
    [Fact]
    public void ParsesTheStackExchangeStyle()
    {
        var o = RedisConnectionOptions.Parse("redis.local:6380,password=x=y,user=app,defaultDatabase=3,name=web,connectTimeout=1500,syncTimeout=700,abortConnect=false,ssl=false");
        Assert.Equal("redis.local", o.Host);
        Assert.Equal(6380, o.Port);
        Assert.Equal("x=y", o.Password);
        Assert.Equal("app", o.User);
        Assert.Equal(3, o.Database);
        Assert.Equal("web", o.ClientName);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(700), o.CommandTimeout);
    }

    [Theory]
    [InlineData("localhost", "localhost", 6379)]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("[::1]:7001", "::1", 7001)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData(" a:1 , b:2 ", "a", 1)]
    public void ParsesEndpoints(string text, string host, int port)
    {
        var o = RedisConnectionOptions.Parse(text);
        Assert.Equal(host, o.Host);
        Assert.Equal(port, o.Port);
    }

    [Theory]
    [InlineData("localhost:0")]
    [InlineData("localhost:x")]
    [InlineData("localhost,defaultDatabase=-1")]
    [InlineData("localhost,bogus=1")]
    [InlineData("localhost,ssl=true")]
    [InlineData(":6379")]
    [InlineData("[::1")]
    public void RejectsInvalidStrings(string text) => Assert.Throws<FormatException>(() => RedisConnectionOptions.Parse(text));
}
