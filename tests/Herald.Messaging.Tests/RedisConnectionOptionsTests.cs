using System.Net;
using Herald.Redis;

namespace Herald.Messaging.Tests;

public sealed class RedisConnectionOptionsTests
{
    [Fact]
    public void ParsesStackExchangeConnectionStrings_WithTlsAclSentinelAndSeveralEndpoints()
    {
        var o = RedisConnectionOptions.Parse("redis-a.local:6380,redis-b.local:6381,ssl=true,sslHost=redis.local,password=x=y,user=app,defaultDatabase=3,name=web,connectTimeout=1500,syncTimeout=700,serviceName=mymaster");
        var c = o.Configuration;
        Assert.Equal([new DnsEndPoint("redis-a.local", 6380), new DnsEndPoint("redis-b.local", 6381)], c.EndPoints.Cast<DnsEndPoint>());
        Assert.True(c.Ssl);
        Assert.Equal("redis.local", c.SslHost);
        Assert.Equal("x=y", c.Password);
        Assert.Equal("app", c.User);
        Assert.Equal(3, c.DefaultDatabase);
        Assert.Equal("web", c.ClientName);
        Assert.Equal("mymaster", c.ServiceName);
        Assert.Equal(1500, c.ConnectTimeout);
        Assert.False(c.AbortOnConnectFail); // a hub starts with Redis down
        Assert.DoesNotContain("x=y", o.ToString(), StringComparison.Ordinal); // logs never show the password
    }

    [Fact]
    public void AnExplicitAbortConnectIsKept()
        => Assert.True(RedisConnectionOptions.Parse("localhost,abortConnect=true").Configuration.AbortOnConnectFail);

    [Theory]
    [InlineData("localhost,bogus=1")]
    [InlineData("localhost,connectTimeout=x")]
    [InlineData("password=x")]
    [InlineData("")]
    public void RejectsInvalidStrings(string text) => Assert.Throws<FormatException>(() => RedisConnectionOptions.Parse(text));
}
