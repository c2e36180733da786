using System.Text.Json;
using Herald.Testing;

namespace Herald.SocketIO.Tests;

/// <summary>Nothing reaches a socket outside its target: namespaces, rooms, except; and the room limit.</summary>
public class IsolationTests
{
    [Fact]
    public void NoBroadcastCrossesNamespaces_EvenOnOneConnectionWithTheSameRoomNames()
    {
        var server = new TestServer();
        var admin = server.Io.Of("/admin");
        var (shared, mainSid) = server.Connect();
        shared.Receive("0/admin,");
        var adminSid = JsonDocument.Parse(shared.Texts.Single(t => t.StartsWith("40/admin,", StringComparison.Ordinal))["40/admin,".Length..])
            .RootElement.GetProperty("sid").GetString()!;
        shared.Clear();
        var (other, otherSid) = server.Connect();

        server.Socket(mainSid).Join("r");
        server.Socket(adminSid, "/admin").Join("r");
        server.Socket(otherSid).Join("r");

        admin.To("r").Emit("to-admin");
        Assert.Equal(["42/admin,[\"to-admin\"]"], shared.Texts);
        Assert.Empty(other.Texts);
        shared.Clear();

        server.Io.To("r").Emit("to-main");
        Assert.Equal(["42[\"to-main\"]"], shared.Texts);
        Assert.Equal(["42[\"to-main\"]"], other.Texts);
        shared.Clear();
        other.Clear();

        // A socket id is a room of its own namespace only.
        server.Io.To(adminSid).Emit("by-admin-id-on-main");
        admin.To(mainSid).Emit("by-main-id-on-admin");
        Assert.Empty(shared.Texts);
        Assert.Empty(other.Texts);

        admin.Except("r").Emit("nobody");
        server.Io.To("r").Except(otherSid).Emit("only-main");
        Assert.Equal(["42[\"only-main\"]"], shared.Texts);
        Assert.Empty(other.Texts);
    }

    [Fact]
    public void AnEventForANamespaceTheClientDidNotJoin_ReachesNoHandler()
    {
        var server = new TestServer();
        var heard = new List<string>();
        server.Io.Of("/admin").OnConnection(socket => socket.On("x", _ => heard.Add("admin")));
        server.Io.OnConnection(socket => socket.On("x", _ => heard.Add("main")));
        var (connection, _) = server.Connect();

        connection.Receive("2/admin,[\"x\"]");
        Assert.Empty(heard);

        // Herald treats it as a protocol error and closes the connection (cleanly); nothing was delivered.
        Assert.False(connection.IsConnected);
        var (again, _) = server.Connect();
        again.Receive("2/other,[\"x\"]");
        Assert.Empty(heard);
        Assert.False(again.IsConnected);
    }

    [Fact]
    public async Task JoinPastMaxRoomsPerSocket_ThrowsAndLeavesTheRoomsUnchanged()
    {
        var server = new TestServer(o => o.MaxRoomsPerSocket = 3);
        var (_, sid) = server.Connect();
        var socket = server.Socket(sid);
        await socket.Join(["a", "b"]).DefaultTimeout();
        await socket.Join("a").DefaultTimeout(); // already in: not counted twice
        await socket.Join("c").DefaultTimeout();

        var error = Assert.Throws<RoomLimitExceededException>(() => { _ = socket.Join("d"); });
        Assert.Equal(3, error.Limit);
        Assert.Contains("MaxRoomsPerSocket", error.Message, StringComparison.Ordinal);
        Assert.Throws<RoomLimitExceededException>(() => { _ = socket.Join(["d", "e"]); });
        Assert.Equal(["a", "b", "c"], socket.Rooms.Where(r => r != sid).Order(StringComparer.Ordinal));

        await socket.Leave("a").DefaultTimeout();
        await socket.Join("d").DefaultTimeout();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketIOServer(new SocketIOOptions { MaxRoomsPerSocket = 0 }));
    }

    [Fact]
    public void SocketIds_Are120RandomBits()
    {
        var server = new TestServer();
        var ids = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var (_, sid) = server.Connect();
            Assert.Matches("^[A-Za-z0-9_-]{20}$", sid);
            Assert.True(ids.Add(sid));
        }
    }
}
