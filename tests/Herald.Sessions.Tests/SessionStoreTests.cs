using System.Reflection;
using Herald.Messaging.Publish;
using Herald.Testing;
using Microsoft.Extensions.Options;

namespace Herald.Sessions.Tests;

public sealed class SessionStoreTests
{
    [Fact]
    public async Task InMemorySessionsExpireAfterTheSlidingExpiry()
    {
        var time = new ManualTimeProvider();
        var store = new InMemorySessionStore(Options.Create(new HeraldSessionOptions { Expiry = TimeSpan.FromMinutes(10), TimeProvider = time }));
        await store.AddChannelsAsync("s1", ["a", "b"]);
        await store.SetUserIdAsync("s1", "fred");
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("fred", (await store.LoadAsync("s1")).UserId); // touched: the expiry slides
        time.Advance(TimeSpan.FromMinutes(9));
        var state = await store.LoadAsync("s1");
        Assert.Equal(["a", "b"], state.Channels.Order());
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Same(SessionState.Empty, await store.LoadAsync("s1"));

        await store.AddChannelsAsync("s2", ["x"]);
        time.Advance(TimeSpan.FromMinutes(11));
        await store.AddChannelsAsync("s3", ["y"]); // a write sweeps what expired
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task RedisStoreKeepsChannelsAndUserWithAnExpiry()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        await using var connection = new Herald.Redis.HeraldRedisConnection(Herald.Redis.RedisConnectionOptions.Parse(redis.ConnectionString));
        var store = new Redis.RedisSessionStore(
            connection,
            Options.Create(new Redis.RedisSessionStoreOptions()),
            Options.Create(new HeraldSessionOptions { Expiry = TimeSpan.FromMinutes(5) }));
        Assert.Null((await store.LoadAsync("s1").AsTask().DefaultTimeout()).UserId);
        await store.AddChannelsAsync("s1", ["a", "b", "c"]).AsTask().DefaultTimeout();
        await store.RemoveChannelsAsync("s1", ["b"]).AsTask().DefaultTimeout();
        await store.SetUserIdAsync("s1", "fred").AsTask().DefaultTimeout();
        var state = await store.LoadAsync("s1").AsTask().DefaultTimeout();
        Assert.Equal(["a", "c"], state.Channels.Order());
        Assert.Equal("fred", state.UserId);
        await store.SetUserIdAsync("s1", null).AsTask().DefaultTimeout();
        await store.ClearChannelsAsync("s1").AsTask().DefaultTimeout();
        state = await store.LoadAsync("s1").AsTask().DefaultTimeout();
        Assert.Empty(state.Channels);
        Assert.Null(state.UserId);
    }

    [Theory]
    [InlineData("a=1; herald.sid=0Hb1k1zUYd9dixx1tr9MHw; b=2", "0Hb1k1zUYd9dixx1tr9MHw")]
    [InlineData("herald.sid=\"0Hb1k1zUYd9dixx1tr9MHw\"", "0Hb1k1zUYd9dixx1tr9MHw")]
    [InlineData("xherald.sid=0Hb1k1zUYd9dixx1tr9MHw", null)]
    [InlineData("herald.sid=short", null)]
    [InlineData("herald.sid=0Hb1k1zUYd9dixx1tr9MHw+", null)]
    [InlineData("", null)]
    [InlineData(";;=;", null)]
    public void TheSessionCookieIsFoundOnlyWhenWellFormed(string header, string? expected)
        => Assert.Equal(expected, HeraldSessionManager.FindCookie(header, "herald.sid"));

    [Fact]
    public void NewSessionIdsAre128RandomBitsInBase64Url()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => HeraldSessionManager.NewSessionId()).ToHashSet();
        Assert.Equal(100, ids.Count);
        Assert.All(ids, id => Assert.Equal(22, id.Length));
        Assert.All(ids, id => Assert.True(HeraldSessionManager.IsValidCookieValue(id)));
    }

    [Fact]
    public void BadNamesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => HeraldRooms.Channel(""));
        Assert.Throws<ArgumentException>(() => HeraldRooms.Channel("a\nb"));
        Assert.Throws<ArgumentException>(() => HeraldRooms.User(new string('x', 201)));
        Assert.Throws<ArgumentException>(() => new MessageSource("Us:er", "1"));
        Assert.Throws<ArgumentException>(() => HeraldRooms.Message(new MessageSource("User", "1"), "Bad Type"));
        Assert.Equal("herald:m:User:UserAdded:a:b", HeraldRooms.Message(new MessageSource("User", "a:b"), "UserAdded"));
    }
}
