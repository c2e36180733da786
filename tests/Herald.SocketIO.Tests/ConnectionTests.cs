using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.Testing;

namespace Herald.SocketIO.Tests;

public class ConnectionTests
{
    [Fact]
    public void ConnectToMainNamespaceAnswersWithSidAndRunsConnectionHandler()
    {
        var server = new TestServer();
        Socket? connected = null;
        server.Io.OnConnection(s => connected = s);
        var connection = server.Open();
        connection.Receive("0");
        Assert.NotNull(connected);
        Assert.Equal($"40{{\"sid\":\"{connected!.Id}\"}}", connection.Texts.Single());
        Assert.Equal(20, connected.Id.Length);
        Assert.NotEqual(connection.Id, connected.Id);
        Assert.Contains(connected.Id, connected.Rooms);
        Assert.True(connected.Connected);
        Assert.Equal(JsonValueKind.Object, connected.Handshake.Auth.ValueKind);
        Assert.Empty(connected.Handshake.Auth.EnumerateObject());
    }

    [Fact]
    public void HandshakeCarriesAuthRequestAndUser()
    {
        var server = new TestServer();
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "ada")], "test"));
        Socket? connected = null;
        server.Io.Of("/admin").OnConnection(s => connected = s);
        var connection = server.Open(new FakeEngineConnection(user, "?room=42"));
        connection.Receive("0/admin,{\"token\":\"123\"}");
        Assert.StartsWith("40/admin,{\"sid\":", connection.LastText);
        var hs = connected!.Handshake;
        Assert.Equal("123", hs.Auth.GetProperty("token").GetString());
        Assert.Equal("123", hs.GetAuth<TokenAuth>()!.Token);
        Assert.Equal("42", hs.Query["room"].ToString());
        Assert.Equal("fake", hs.Headers.UserAgent.ToString());
        Assert.Equal("127.0.0.1", hs.Address);
        Assert.Equal(100_000, hs.Issued);
        Assert.Equal("ada", hs.User.Identity!.Name);
    }

    [Fact]
    public void UnknownNamespaceIsRefusedButTheConnectionStays()
    {
        var server = new TestServer();
        var connection = server.Open();
        connection.Receive("0/random");
        Assert.Equal("44/random,{\"message\":\"Invalid namespace\"}", connection.LastText);
        Assert.True(connection.IsConnected);
        connection.Receive("0");
        Assert.StartsWith("40{\"sid\"", connection.LastText);
    }

    [Fact]
    public void DynamicNamespaceByRegexCreatesChildrenAndStaticWins()
    {
        var server = new TestServer();
        var dynamicHits = new List<string>();
        var staticHits = 0;
        server.Io.Of("/dynamic-101").OnConnection(_ => staticHits++);
        var parent = server.Io.Of(new Regex(@"^/dynamic-\d+$"));
        parent.OnConnection(s => dynamicHits.Add(s.Namespace.Name));

        server.Connect("/dynamic-1");
        server.Connect("/dynamic-101");
        server.Connect("/dynamic-1");
        var refused = server.Open();
        refused.Receive("0/dynamic-x,");
        Assert.Equal("44/dynamic-x,{\"message\":\"Invalid namespace\"}", refused.LastText);

        Assert.Equal(["/dynamic-1", "/dynamic-1"], dynamicHits);
        Assert.Equal(1, staticHits);
        Assert.Single(parent.Children);
        Assert.Same(parent, server.Io.Of("/dynamic-1").Parent);
    }

    [Fact]
    public void DynamicNamespaceByPredicateSeesTheHandshakeAndParentBroadcastReachesChildren()
    {
        var server = new TestServer();
        var parent = server.Io.Of((name, hs) => name.StartsWith("/team-", StringComparison.Ordinal) && hs.Auth.TryGetProperty("ok", out _));
        var (a, _) = server.Connect("/team-a", "{\"ok\":1}");
        var (b, _) = server.Connect("/team-b", "{\"ok\":1}");
        var refused = server.Open();
        refused.Receive("0/team-c,{}");
        Assert.Contains("Invalid namespace", refused.LastText);

        parent.Emit("hello", 1);
        Assert.Equal("42/team-a,[\"hello\",1]", a.LastText);
        Assert.Equal("42/team-b,[\"hello\",1]", b.LastText);
    }

    [Fact]
    public void EmptyDynamicChildrenAreRemovedWhenCleanupIsOn()
    {
        var server = new TestServer(o => o.CleanupEmptyChildNamespaces = true);
        var parent = server.Io.Of(new Regex("^/room-"));
        var (connection, _) = server.Connect("/room-1");
        Assert.True(server.Io.Namespaces.ContainsKey("/room-1"));
        connection.Receive("1/room-1,");
        Assert.Empty(parent.Children);
        Assert.False(server.Io.Namespaces.ContainsKey("/room-1"));
    }

    [Fact]
    public void EmptyDynamicChildrenStayByDefault()
    {
        var server = new TestServer();
        var parent = server.Io.Of(new Regex("^/room-"));
        var (connection, _) = server.Connect("/room-1");
        connection.Receive("1/room-1,");
        Assert.Single(parent.Children);
    }

    [Fact]
    public void MiddlewareRejectionBecomesConnectErrorWithMessageAndData()
    {
        var server = new TestServer();
        var connected = false;
        server.Io.Use((socket, next) => socket.Handshake.Auth.TryGetProperty("token", out _)
            ? next()
            : throw new ConnectionRejectedException("not authorized", new { Code = 42 }));
        server.Io.OnConnection(_ => connected = true);
        var connection = server.Open();
        connection.Receive("0");
        Assert.Equal("44{\"message\":\"not authorized\",\"data\":{\"code\":42}}", connection.LastText);
        Assert.False(connected);
        Assert.Empty(server.Io.Sockets.Sockets);
        connection.Receive("0{\"token\":\"x\"}");
        Assert.True(connected);
    }

    [Fact]
    public async Task AsyncMiddlewaresRunInOrderAndAnyExceptionRefuses()
    {
        var server = new TestServer();
        var order = new List<string>();
        var gate = new TaskCompletionSource();
        var nsp = server.Io.Of("/orders");
        nsp.Use(async (_, next) =>
        {
            order.Add("1");
            await gate.Task;
            await next();
        });
        nsp.Use((socket, _) =>
        {
            order.Add("2");
            throw new InvalidOperationException("db down");
        });
        var connection = server.Open();
        connection.Receive("0/orders,");
        Assert.Empty(connection.Texts);
        gate.SetResult();
        var error = await connection.WaitForText(t => t.StartsWith("44", StringComparison.Ordinal)).DefaultTimeout();
        Assert.Equal("44/orders,{\"message\":\"db down\"}", error);
        Assert.Equal(["1", "2"], order);
    }

    [Fact]
    public void MiddlewareThatDoesNotCallNextRefuses()
    {
        var server = new TestServer();
        server.Io.Use((_, _) => Task.CompletedTask);
        var connection = server.Open();
        connection.Receive("0");
        Assert.Equal("44{\"message\":\"Connection rejected\"}", connection.LastText);
    }

    [Fact]
    public void ParentMiddlewaresApplyToChildren()
    {
        var server = new TestServer();
        var parent = server.Io.Of(new Regex("^/p-"));
        parent.Use((_, _) => throw new ConnectionRejectedException("parent says no"));
        var connection = server.Open();
        connection.Receive("0/p-1,");
        Assert.Equal("44/p-1,{\"message\":\"parent says no\"}", connection.LastText);
    }

    [Fact]
    public void ConnectTimeoutClosesAConnectionThatJoinedNoNamespace()
    {
        var server = new TestServer(o => o.ConnectTimeout = TimeSpan.FromSeconds(1));
        var idle = server.Open();
        var (joined, _) = server.Connect();
        server.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(idle.IsConnected);
        server.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(idle.IsConnected);
        Assert.True(joined.IsConnected);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("2{}")]
    [InlineData("2abc[\"message\"]")]
    [InlineData("2[\"connect\"]")]
    [InlineData("9")]
    [InlineData("51-[\"a\",{\"_placeholder\":true,\"num\":3}]")]
    public void InvalidPacketsCloseTheConnectionAndDisconnectSockets(string packet)
    {
        var server = new TestServer();
        string? reason = null;
        server.Io.OnConnection(s => s.OnDisconnect(r => reason = r));
        var (connection, sid) = server.Connect();
        connection.Receive(packet);
        Assert.False(connection.IsConnected);
        Assert.Equal(DisconnectReasons.ForcedClose, reason);
        Assert.Empty(server.Io.Sockets.Sockets);
        Assert.Null(server.Io.Sockets.Adapter.SocketRooms(sid));
    }

    [Fact]
    public void BinaryWithoutPacketClosesTheConnection()
    {
        var server = new TestServer();
        var (connection, _) = server.Connect();
        connection.ReceiveBinary([1, 2]);
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public void EventForANamespaceNotJoinedClosesTheConnection()
    {
        var server = new TestServer();
        server.Io.Of("/other");
        var (connection, _) = server.Connect();
        connection.Receive("2/other,[\"x\"]");
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public void SecondConnectToAConnectedNamespaceIsAnsweredWithTheSameSid()
    {
        // socket.io-client sends CONNECT again when connect() is called on a socket still connecting;
        // the connection must survive it, and the connection handler must not run twice.
        var server = new TestServer();
        var handlerRuns = 0;
        server.Io.OnConnection(_ => handlerRuns++);
        var (connection, sid) = server.Connect();
        connection.Clear();
        connection.Receive("0");
        Assert.True(connection.IsConnected);
        Assert.Equal($"40{{\"sid\":\"{sid}\"}}", connection.LastText);
        Assert.Equal(1, handlerRuns);
        Assert.Single(server.Io.Sockets.Sockets);
    }

    [Fact]
    public void ClientDisconnectLeavesOnlyThatNamespace()
    {
        var server = new TestServer();
        var reasons = new List<string>();
        server.Io.OnConnection(s => s.OnDisconnect(reasons.Add));
        server.Io.Of("/custom").OnConnection(s => s.OnDisconnect(r => reasons.Add("custom:" + r)));
        var (connection, _) = server.Connect();
        connection.Receive("0/custom,");
        connection.Receive("1/custom,");
        Assert.Equal(["custom:client namespace disconnect"], reasons);
        Assert.True(connection.IsConnected);
        connection.Receive("2[\"still\"]");
        Assert.True(connection.IsConnected);
        connection.End("transport close");
        Assert.Equal(["custom:client namespace disconnect", "transport close"], reasons);
    }

    [Fact]
    public void ServerDisconnectSendsDisconnectPacketAndKeepsTheConnection()
    {
        var server = new TestServer();
        var events = new List<string>();
        server.Io.OnConnection(s =>
        {
            s.Join("r");
            s.OnDisconnecting(r => events.Add($"disconnecting:{r}:{s.Rooms.Count}"));
            s.OnDisconnect(r => events.Add($"disconnect:{r}:{s.Connected}"));
        });
        var (connection, sid) = server.Connect();
        server.Socket(sid).Disconnect();
        Assert.Equal("41", connection.LastText);
        Assert.True(connection.IsConnected);
        Assert.Equal(["disconnecting:server namespace disconnect:2", "disconnect:server namespace disconnect:False"], events);
    }

    [Fact]
    public void DisconnectWithCloseClosesTheEngineConnection()
    {
        var server = new TestServer();
        server.Io.Of("/custom");
        var (connection, sid) = server.Connect();
        connection.Receive("0/custom,");
        server.Socket(sid).Disconnect(close: true);
        Assert.Contains("41", connection.Texts);
        Assert.Contains("41/custom,", connection.Texts);
        Assert.False(connection.IsConnected);
        Assert.Empty(server.Io.Sockets.Sockets);
        Assert.Empty(server.Io.Of("/custom").Sockets);
    }

    [Fact]
    public async Task PacketsArrivingBeforeTheConnectionHandlerFinishedAreHeldBackInOrder()
    {
        var server = new TestServer();
        var gate = new TaskCompletionSource();
        var inHandler = new TaskCompletionSource();
        var proceed = new ManualResetEventSlim();
        var received = new List<string>();
        var done = new TaskCompletionSource();
        server.Io.Use(async (_, next) =>
        {
            await gate.Task;
            await next();
        });
        server.Io.OnConnection(socket =>
        {
            inHandler.SetResult();
            proceed.Wait(TaskTimeoutExtensions.DefaultTimeoutSpan);
            socket.On<int>("n", n =>
            {
                received.Add("n" + n);
                if (n == 2)
                {
                    done.SetResult();
                }
            });
        });
        var connection = server.Open();
        connection.Receive("0");
        _ = Task.Run(gate.SetResult);
        await inHandler.Task.DefaultTimeout();
        connection.Receive("2[\"n\",1]");
        connection.Receive("2[\"n\",2]");
        proceed.Set();
        await done.Task.DefaultTimeout();
        Assert.Equal(["n1", "n2"], received);
    }

    private sealed record TokenAuth(string Token);
}
