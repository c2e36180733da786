using Herald.Testing;

namespace Herald.SocketIO.Tests;

public class BroadcastTests
{
    private static (TestServer Server, Dictionary<string, (FakeEngineConnection Connection, Socket Socket)> Clients) Setup(params (string Name, string[] Rooms)[] clients)
    {
        var server = new TestServer();
        var result = new Dictionary<string, (FakeEngineConnection, Socket)>();
        foreach (var (name, rooms) in clients)
        {
            var (connection, sid) = server.Connect();
            var socket = server.Socket(sid);
            socket.Join(rooms);
            result[name] = (connection, socket);
        }

        return (server, result);
    }

    private static string[] Receivers(Dictionary<string, (FakeEngineConnection Connection, Socket Socket)> clients, string packet)
        => clients.Where(c => c.Value.Connection.Texts.Contains(packet)).Select(c => c.Key).Order().ToArray();

    [Fact]
    public void ToIsAUnionWithEachSocketOnceAndExceptRemoves()
    {
        var (server, clients) = Setup(("a", ["r1"]), ("b", ["r1", "r2"]), ("c", ["r2", "r3"]), ("d", ["r3"]), ("e", []));
        server.Io.To("r1").To("r2").Emit("u");
        Assert.Equal(["a", "b", "c"], Receivers(clients, "42[\"u\"]"));
        Assert.Single(clients["b"].Connection.Texts, "42[\"u\"]");

        server.Io.To(["r1", "r2"]).Except("r3").Emit("x");
        Assert.Equal(["a", "b"], Receivers(clients, "42[\"x\"]"));

        server.Io.Except("r1").Emit("all-but");
        Assert.Equal(["c", "d", "e"], Receivers(clients, "42[\"all-but\"]"));

        server.Io.Emit("all");
        Assert.Equal(["a", "b", "c", "d", "e"], Receivers(clients, "42[\"all\"]"));

        server.Io.To(clients["e"].Socket.Id).Emit("private");
        Assert.Equal(["e"], Receivers(clients, "42[\"private\"]"));
    }

    [Fact]
    public void SocketToAndBroadcastExcludeTheSender()
    {
        var (_, clients) = Setup(("a", ["r"]), ("b", ["r"]), ("c", []));
        var sender = clients["a"].Socket;
        sender.To("r").Emit("room");
        Assert.Equal(["b"], Receivers(clients, "42[\"room\"]"));
        sender.Broadcast.Emit("bc");
        Assert.Equal(["b", "c"], Receivers(clients, "42[\"bc\"]"));
        sender.Except("r").Emit("not-r");
        Assert.Equal(["c"], Receivers(clients, "42[\"not-r\"]"));
    }

    [Fact]
    public void OperatorsAreImmutable()
    {
        var (server, clients) = Setup(("a", ["r1"]), ("b", ["r2"]));
        var toR1 = server.Io.To("r1");
        var toBoth = toR1.To("r2");
        toR1.Emit("one");
        Assert.Equal(["a"], Receivers(clients, "42[\"one\"]"));
        toBoth.Emit("two");
        Assert.Equal(["a", "b"], Receivers(clients, "42[\"two\"]"));
        Assert.Equal(["r1"], toR1.Rooms);
        Assert.False(toR1.Flags.Volatile);
        Assert.True(toR1.Volatile.Flags.Volatile);
        Assert.False(toR1.Compress(false).Volatile.Flags.Compress);
    }

    [Fact]
    public void ABroadcastIsEncodedOnceAndTheSameMessagesGoToEveryTarget()
    {
        var (server, clients) = Setup(("a", []), ("b", []), ("c", []));
        server.Io.Emit("blob", new byte[] { 1, 2 });
        var first = clients["a"].Connection.Sent;
        Assert.Equal(2, first.Count);
        foreach (var other in new[] { "b", "c" })
        {
            var sent = clients[other].Connection.Sent;
            Assert.Same(first[0], sent[0]);
            Assert.Same(first[1], sent[1]);
        }
    }

    [Fact]
    public void VolatileBroadcastSkipsClientsThatAreNotWritable()
    {
        var (server, clients) = Setup(("a", []), ("b", []));
        clients["b"].Connection.Writable = false;
        server.Io.Volatile.Emit("tick");
        Assert.Equal(["a"], Receivers(clients, "42[\"tick\"]"));
        server.Io.Emit("tock");
        Assert.Equal(["a", "b"], Receivers(clients, "42[\"tock\"]"));
    }

    [Fact]
    public void RoomsJoinLeaveAndAdapterEvents()
    {
        var server = new TestServer();
        var events = new List<string>();
        var adapter = server.Io.Sockets.Adapter;
        adapter.RoomCreated += r => events.Add("create:" + r);
        adapter.RoomDeleted += r => events.Add("delete:" + r);
        adapter.RoomJoined += (r, id) => events.Add($"join:{r}:{id}");
        adapter.RoomLeft += (r, id) => events.Add($"leave:{r}:{id}");
        var (connection, sid) = server.Connect();
        var socket = server.Socket(sid);
        Assert.Equal([$"create:{sid}", $"join:{sid}:{sid}"], events);
        events.Clear();

        socket.Join(["a", "b"]);
        socket.Join("a");
        Assert.Equal(["create:a", $"join:a:{sid}", "create:b", $"join:b:{sid}"], events);
        Assert.Equal(new[] { sid, "a", "b" }.Order(), socket.Rooms.Order());
        events.Clear();

        socket.Leave("a");
        Assert.Equal([$"leave:a:{sid}", "delete:a"], events);
        events.Clear();

        connection.End("transport close");
        Assert.Contains($"leave:b:{sid}", events);
        Assert.Contains("delete:b", events);
        Assert.Contains($"delete:{sid}", events);
        Assert.Equal(0, ((InMemoryAdapter)adapter).RoomCount);
    }

    [Fact]
    public void RoomsAreScopedToTheirNamespace()
    {
        var server = new TestServer();
        server.Io.Of("/orders");
        var (c1, sid1) = server.Connect();
        var (c2, sid2) = server.Connect("/orders");
        server.Socket(sid1).Join("room1");
        server.Socket(sid2, "/orders").Join("room1");
        server.Io.Of("/orders").To("room1").Emit("hello");
        Assert.Empty(c1.Texts);
        Assert.Equal(["42/orders,[\"hello\"]"], c2.Texts);
    }

    [Fact]
    public async Task FetchSocketsJoinLeaveAndDisconnectThroughTheOperator()
    {
        var (server, clients) = Setup(("a", ["r"]), ("b", ["r"]), ("c", []));
        clients["a"].Socket.Data["name"] = "ada";
        var inRoom = await server.Io.In("r").FetchSocketsAsync().DefaultTimeout();
        Assert.Equal(new[] { clients["a"].Socket.Id, clients["b"].Socket.Id }.Order(), inRoom.Select(s => s.Id).Order());
        var ada = inRoom.Single(s => s.Id == clients["a"].Socket.Id);
        Assert.Equal("ada", ada.Data["name"]);
        Assert.Contains("r", ada.Rooms);

        server.Io.In("r").SocketsJoin("vip", "other");
        Assert.Contains("vip", clients["b"].Socket.Rooms);
        Assert.DoesNotContain("vip", clients["c"].Socket.Rooms);
        server.Io.SocketsLeave("r");
        Assert.DoesNotContain("r", clients["a"].Socket.Rooms);

        ada.Emit("remote", 1);
        Assert.Equal(["a"], Receivers(clients, "42[\"remote\",1]"));

        server.Io.In("vip").DisconnectSockets();
        Assert.False(clients["a"].Socket.Connected);
        Assert.False(clients["b"].Socket.Connected);
        Assert.True(clients["c"].Socket.Connected);
        Assert.Contains("41", clients["a"].Connection.Texts);
        Assert.True(clients["a"].Connection.IsConnected);

        server.Io.DisconnectSockets(close: true);
        Assert.False(clients["c"].Connection.IsConnected);
        Assert.Empty(await server.Io.FetchSocketsAsync().DefaultTimeout());
    }

    [Fact]
    public async Task BroadcastWithAckCollectsEveryAnswer()
    {
        var (server, clients) = Setup(("a", []), ("b", []));
        var all = server.Io.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("poll");
        foreach (var (name, (connection, _)) in clients)
        {
            var sent = connection.LastText;
            var id = sent[2..sent.IndexOf('[')];
            connection.Receive($"3{id}[\"{name}\"]");
        }

        var responses = await all.DefaultTimeout();
        Assert.Equal(["a", "b"], responses.Select(r => r.Get<string>()).Order());
        Assert.Equal(new[] { clients["a"].Socket.Id, clients["b"].Socket.Id }.Order(), responses.Select(r => r.SocketId).Order());
    }

    [Fact]
    public async Task BroadcastWithAckTimesOutWithThePartialAnswers()
    {
        var (server, clients) = Setup(("a", []), ("b", []));
        var all = server.Io.Timeout(TimeSpan.FromSeconds(2)).EmitWithAckAsync("poll");
        var sent = clients["a"].Connection.LastText;
        Assert.Same(clients["a"].Connection.Sent[0], clients["b"].Connection.Sent[0]);
        clients["a"].Connection.Receive($"3{sent[2..sent.IndexOf('[')]}[\"yes\"]");
        server.Time.Advance(TimeSpan.FromSeconds(2));
        // Not DefaultTimeout(): it reports any TimeoutException (BroadcastTimeoutException is one) as its own timeout.
        var timeout = await Assert.ThrowsAsync<BroadcastTimeoutException>(() => all.WaitAsync(TaskTimeoutExtensions.DefaultTimeoutSpan));
        Assert.Equal(2, timeout.Expected);
        Assert.Equal("yes", Assert.Single(timeout.Responses).Get<string>());
    }

    [Fact]
    public async Task BroadcastWithAckCountsADisconnectedTargetAsAnswered()
    {
        var (server, clients) = Setup(("a", []), ("b", []));
        var all = server.Io.EmitWithAckAsync("poll");
        var sent = clients["a"].Connection.LastText;
        clients["a"].Connection.Receive($"3{sent[2..sent.IndexOf('[')]}[1]");
        clients["b"].Connection.End("transport close");
        Assert.Single(await all.DefaultTimeout());
    }

    [Fact]
    public async Task BroadcastWithAckToNobodyCompletesEmpty()
    {
        var server = new TestServer();
        Assert.Empty(await server.Io.To("nobody").EmitWithAckAsync("x").DefaultTimeout());
    }

    [Fact]
    public void ServerSideEmitIsANoOpInMemoryButRejectsReservedNames()
    {
        var server = new TestServer();
        server.Io.ServerSideEmit("hello", 1);
        Assert.Throws<ArgumentException>(() => server.Io.ServerSideEmit("disconnect"));
    }

    [Fact]
    public async Task ServerSideEmitWithAckHasNobodyToAskInMemory()
    {
        var server = new TestServer();
        var handled = false;
        server.Io.OnServerSideEmit("ping", (_, ack) => handled = true);
        var answers = server.Io.ServerSideEmitWithAckAsync("ping", 1);
        Assert.True(answers.IsCompletedSuccessfully);
        Assert.Empty(await answers.DefaultTimeout());
        Assert.Empty(await server.Io.Timeout(TimeSpan.FromSeconds(1)).ServerSideEmitWithAckAsync("ping").DefaultTimeout());
        Assert.False(handled);
        // Misuse throws at the call, not in the task.
        Assert.Throws<ArgumentException>(() => { _ = server.Io.ServerSideEmitWithAckAsync("disconnect"); });
        Assert.Throws<InvalidOperationException>(() => { _ = server.Io.To("room").ServerSideEmitWithAckAsync("ping"); });
    }
}
