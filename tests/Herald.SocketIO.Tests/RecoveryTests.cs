using System.Text.Json;

namespace Herald.SocketIO.Tests;

/// <summary>Connection-state recovery on one server (in memory), with fake connections and a manual clock.</summary>
public class RecoveryTests
{
    private static TestServer NewServer(Action<ConnectionStateRecoveryOptions>? configure = null)
    {
        var recovery = new ConnectionStateRecoveryOptions();
        configure?.Invoke(recovery);
        return new TestServer(o => o.ConnectionStateRecovery = recovery);
    }

    /// <summary>Connects and returns the connection, sid and pid from the CONNECT answer.</summary>
    private static (FakeEngineConnection Connection, string Sid, string? Pid, bool Recovered) Connect(TestServer server, string? auth = null)
    {
        var connection = server.Open();
        connection.Receive("0" + (auth ?? ""));
        var answer = connection.Texts.First(t => t.StartsWith("40", StringComparison.Ordinal));
        var data = JsonDocument.Parse(answer[2..]).RootElement;
        var sid = data.GetProperty("sid").GetString()!;
        var pid = data.TryGetProperty("pid", out var p) ? p.GetString() : null;
        return (connection, sid, pid, server.Socket(sid).Recovered);
    }

    /// <summary>The (event, first argument, offset) of every EVENT packet sent, in order.</summary>
    private static List<(string Event, JsonElement Arg, string? Offset)> Events(FakeEngineConnection connection)
        => connection.Texts.Where(t => t.StartsWith("42", StringComparison.Ordinal)).Select(t =>
        {
            var array = JsonDocument.Parse(t[2..]).RootElement;
            var last = array[array.GetArrayLength() - 1];
            return (array[0].GetString()!, array.GetArrayLength() > 1 ? array[1] : default,
                array.GetArrayLength() > 2 && last.ValueKind == JsonValueKind.String ? last.GetString() : null);
        }).ToList();

    private static string Auth(string pid, string offset) => JsonSerializer.Serialize(new { pid, offset });

    [Fact]
    public void ConnectCarriesAPrivateIdOnlyWhenRecoveryIsOn()
    {
        var on = Connect(NewServer());
        Assert.NotNull(on.Pid);
        Assert.NotEqual(on.Sid, on.Pid);
        Assert.False(on.Recovered);

        var off = new TestServer();
        var (connection, _) = off.Connect();
        off.Io.Emit("e", 1);
        Assert.Equal("42[\"e\",1]", connection.LastText);
    }

    [Fact]
    public void AClientThatComesBackGetsItsIdRoomsDataAndEveryMissedPacketInOrder()
    {
        var server = NewServer();
        var first = Connect(server);
        var socket = server.Socket(first.Sid);
        socket.Join("news").Wait();
        socket.Data["user"] = "ada";
        var bystander = Connect(server);

        for (var i = 1; i <= 3; i++)
        {
            server.Io.Emit("n", i);
        }

        server.Io.To("news").Emit("news", 4);
        socket.Emit("direct", 5);
        var received = Events(first.Connection);
        Assert.Equal(["n", "n", "n", "news", "direct"], received.Select(e => e.Event));
        Assert.All(received, e => Assert.NotNull(e.Offset));
        Assert.Equal(5, received.Select(e => e.Offset).Distinct().Count());

        // The client saw up to packet 2; its transport drops; packets go on meanwhile.
        first.Connection.End("transport close");
        server.Io.Emit("n", 6);
        server.Io.To("news").Emit("news", 7);
        server.Io.To("sports").Emit("sports", 8); // not for it
        server.Io.Except("news").Emit("n", 9); // not for it
        server.Io.Volatile.Emit("n", 10); // volatile: not logged
        server.Io.To(first.Sid).Emit("direct", 11);

        var back = Connect(server, Auth(first.Pid!, received[1].Offset!));
        Assert.True(back.Recovered);
        Assert.Equal(first.Sid, back.Sid);
        Assert.Equal(first.Pid, back.Pid);
        var restored = server.Socket(back.Sid);
        Assert.Contains("news", restored.Rooms);
        Assert.Equal("ada", restored.Data["user"]);
        var replayed = Events(back.Connection);
        Assert.Equal([3, 4, 5, 6, 7, 11], replayed.Select(e => e.Arg.GetInt32()));

        // Live again: a new broadcast arrives once.
        back.Connection.Clear();
        server.Io.Emit("n", 12);
        Assert.Equal([12], Events(back.Connection).Select(e => e.Arg.GetInt32()));
        Assert.DoesNotContain(Events(bystander.Connection), e => e.Event == "direct");
    }

    [Fact]
    public void ASessionIsRestoredOnceAndNotAfterALeaveOnPurposeOrTheWindow()
    {
        var server = NewServer(o => o.MaxDisconnectionDuration = TimeSpan.FromSeconds(10));
        var a = Connect(server);
        server.Io.Emit("n", 1);
        var offset = Events(a.Connection)[0].Offset!;
        a.Connection.End("transport close");
        var back = Connect(server, Auth(a.Pid!, offset));
        Assert.True(back.Recovered);
        back.Connection.End("transport close");
        var again = Connect(server, Auth("not-" + a.Pid, offset));
        Assert.False(again.Recovered);

        // The client left on purpose: nothing kept.
        var b = Connect(server);
        server.Io.Emit("n", 2);
        var offsetB = Events(b.Connection)[^1].Offset!;
        b.Connection.Receive("1");
        Assert.False(Connect(server, Auth(b.Pid!, offsetB)).Recovered);

        // Past the window: expired.
        var c = Connect(server);
        server.Io.Emit("n", 3);
        var offsetC = Events(c.Connection)[^1].Offset!;
        c.Connection.End("ping timeout");
        server.Time.Advance(TimeSpan.FromSeconds(11));
        var late = Connect(server, Auth(c.Pid!, offsetC));
        Assert.False(late.Recovered);
        Assert.NotEqual(c.Sid, late.Sid);
    }

    [Fact]
    public void AnUnknownOffsetOrAnAckPacketIsNotRecoveredAndTheLogIsBounded()
    {
        var server = NewServer(o => o.MaxPackets = 3);
        var a = Connect(server);
        server.Io.Emit("n", 1);
        var offset = Events(a.Connection)[0].Offset!;
        for (var i = 2; i <= 5; i++)
        {
            server.Io.Emit("n", i);
        }

        var adapter = (InMemoryAdapter)server.Io.Sockets.Adapter;
        Assert.Equal(3, adapter.RecoveryLogCount);
        a.Connection.End("transport close");
        Assert.False(Connect(server, Auth(a.Pid!, offset)).Recovered); // offset 1 fell out of the log

        // A broadcast with acks carries no offset (it cannot be replayed).
        var b = Connect(server);
        _ = server.Io.Timeout(TimeSpan.FromSeconds(1)).EmitWithAckAsync("q");
        var ask = b.Connection.Texts.Last(t => t.StartsWith("42", StringComparison.Ordinal));
        Assert.Matches("^42[0-9]+\\[\"q\"\\]$", ask);
    }

    [Fact]
    public void ARecoveredSocketSkipsTheMiddlewaresUnlessConfigured()
    {
        foreach (var skip in new[] { true, false })
        {
            var server = NewServer(o => o.SkipMiddlewares = skip);
            var runs = 0;
            server.Io.Use((_, next) =>
            {
                runs++;
                return next();
            });
            var a = Connect(server);
            server.Io.Emit("n", 1);
            a.Connection.End("transport close");
            var back = Connect(server, Auth(a.Pid!, Events(a.Connection)[0].Offset!));
            Assert.True(back.Recovered);
            Assert.Equal(skip ? 1 : 2, runs);
        }
    }

    [Fact]
    public void AMiddlewareThatRunsOnRecovery_RunsForARecoveredSocket_WhileTheOthersAreSkipped()
    {
        var server = NewServer(); // SkipMiddlewares: true, socket.io's default
        var order = new List<string>();
        server.Io.Use((socket, next) =>
        {
            order.Add("app:" + socket.Recovered);
            return next();
        });
        server.Io.Use(
            (socket, next) =>
            {
                order.Add("infra:" + socket.Recovered);
                socket.Data["attached"] = true;
                return next();
            },
            runsOnRecovery: true);
        var a = Connect(server);
        server.Io.Emit("n", 1);
        a.Connection.End("transport close");
        var back = Connect(server, Auth(a.Pid!, Events(a.Connection)[0].Offset!));

        Assert.True(back.Recovered);
        Assert.Equal(["app:False", "infra:False", "infra:True"], order);
        Assert.Equal(true, server.Socket(back.Sid).Data["attached"]);
    }
}
