using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>Presence on one node: the query, and the opt-in join/leave events (two hubs: Herald.Server.Tests.IdentityApiTests).</summary>
public sealed class PresenceTests
{
    private static string Hs(string sub, params string[] channels)
        => TestTokens.Create(TestTokens.HmacKey, SecurityAlgorithms.HmacSha256, sub: sub, channels: channels);

    [Fact]
    public async Task ChannelMembersAreToldWhoJoinsAndLeavesWhenPresenceEventsAreOn()
    {
        await using var node = await IdentityNode.StartAsync(o =>
        {
            o.HmacSecret = TestTokens.Secret;
            o.PresenceEvents = true;
        });
        await using var bob = await node.ConnectAsync(Hs("bob", "board"));
        var own = await bob.NextAsync(HeraldIdentityManager.JoinEventName);
        Assert.Equal("bob", own.Args[0].GetProperty("user").GetString());

        var alice = await node.ConnectAsync(Hs("alice", "board", "elsewhere"));
        var join = await bob.NextAsync(HeraldIdentityManager.JoinEventName);
        Assert.Equal("alice", join.Args[0].GetProperty("user").GetString());
        Assert.Equal("board", join.Args[1].GetString());

        var presence = await node.Services.GetRequiredService<HeraldIdentityManager>().GetPresenceAsync("board");
        Assert.Equal(new Dictionary<string, int> { ["alice"] = 1, ["bob"] = 1 }, presence.Users.ToDictionary());
        Assert.True(presence.Complete);

        await alice.DisposeAsync();
        var leave = await bob.NextAsync(HeraldIdentityManager.LeaveEventName);
        Assert.Equal("alice", leave.Args[0].GetProperty("user").GetString());
        Assert.Equal("board", leave.Args[1].GetString());

        // A channel added or dropped by the client is announced too.
        await using var carol = await node.ConnectAsync(Hs("carol"));
        var channelToken = TestTokens.Create(TestTokens.HmacKey, SecurityAlgorithms.HmacSha256, sub: "carol", channel: "board");
        await carol.EmitWithAckAsync(HeraldIdentityManager.ChannelSubscribeEventName, new { channel = "board", token = channelToken });
        Assert.Equal("carol", (await bob.NextAsync(HeraldIdentityManager.JoinEventName)).Args[0].GetProperty("user").GetString());
        await carol.EmitWithAckAsync(HeraldIdentityManager.ChannelUnsubscribeEventName, new { channel = "board" });
        Assert.Equal("carol", (await bob.NextAsync(HeraldIdentityManager.LeaveEventName)).Args[0].GetProperty("user").GetString());
    }

    [Fact]
    public async Task NoPresenceEventsByDefault()
    {
        await using var node = await IdentityNode.StartAsync(o => o.HmacSecret = TestTokens.Secret);
        await using var bob = await node.ConnectAsync(Hs("bob", "board"));
        await using (await node.ConnectAsync(Hs("alice", "board")))
        {
        }

        await node.Publisher.AllAsync("marker");
        await bob.NextAsync("marker");
    }
}
