using System.Text.Json;
using Herald.Testing;

namespace Herald.SocketIO.Tests;

public class EventTests
{
    [Fact]
    public void TypedHandlersBindArgumentsWithWebDefaults()
    {
        var server = new TestServer();
        string? text = null;
        var number = 0;
        Order? order = null;
        server.Io.OnConnection(s =>
        {
            s.On<string, int>("pair", (t, n) => (text, number) = (t, n));
            s.On<Order>("order", o => order = o);
        });
        var (connection, _) = server.Connect();
        connection.Receive("2[\"pair\",\"a\",7]");
        connection.Receive("2[\"order\",{\"id\":5,\"items\":[\"x\",\"y\"]}]");
        Assert.Equal(("a", 7), (text, number));
        Assert.Equal(5, order!.Id);
        Assert.Equal(["x", "y"], order.Items);
    }

    [Fact]
    public void AckCallbackAnswersWithTheEventIdOnce()
    {
        var server = new TestServer();
        server.Io.OnConnection(s => s.On<string>("shout", (t, ack) =>
        {
            ack(t.ToUpperInvariant(), 1);
            ack("ignored");
        }));
        var (connection, _) = server.Connect();
        connection.Receive("2456[\"shout\",\"hi\"]");
        Assert.Equal("43456[\"HI\",1]", connection.Texts.Single());
        connection.Clear();
        connection.Receive("2[\"shout\",\"no ack asked\"]");
        Assert.Empty(connection.Texts);
    }

    [Fact]
    public void RawHandlerSeesArgsAttachmentsAndAck()
    {
        var server = new TestServer();
        SocketEvent? seen = null;
        byte[]? bytes = null;
        server.Io.Of("/files").OnConnection(s => s.On("upload", e =>
        {
            seen = e;
            bytes = e.GetArg<byte[]>(1);
            e.Ack("stored", e.Args.Count);
        }));
        var (connection, _) = server.Connect("/files");
        connection.Receive("51-/files,9[\"upload\",\"a.bin\",{\"_placeholder\":true,\"num\":0}]");
        Assert.Null(seen);
        connection.ReceiveBinary([1, 2, 3]);
        Assert.Equal("upload", seen!.Name);
        Assert.True(seen.HasAck);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes);
        Assert.Equal("43/files,9[\"stored\",2]", connection.LastText);
    }

    [Fact]
    public void BinaryArgumentsGoOutAsBinaryEventAndBinaryAck()
    {
        var server = new TestServer();
        server.Io.OnConnection(s => s.On<string>("get", (name, ack) => ack(name, new byte[] { 9, 8 })));
        var (connection, sid) = server.Connect();
        connection.Receive("21[\"get\",\"f\"]");
        Assert.Equal("461-1[\"f\",{\"_placeholder\":true,\"num\":0}]", connection.Texts.Single());
        Assert.Equal(new byte[] { 9, 8 }, connection.Sent[1].Payload.ToArray());
        Assert.True(connection.Sent[1].IsBinary);

        connection.Clear();
        server.Socket(sid).Emit("file", new FilePayload("x", new byte[] { 1 }));
        Assert.Equal("451-[\"file\",{\"name\":\"x\",\"data\":{\"_placeholder\":true,\"num\":0}}]", connection.Texts.Single());
    }

    [Fact]
    public void NumericEventNamesAreDispatchedByTheirText()
    {
        var server = new TestServer();
        var hit = false;
        server.Io.OnConnection(s => s.On("42", () => hit = true));
        var (connection, _) = server.Connect();
        connection.Receive("2[42]");
        Assert.True(hit);
    }

    [Fact]
    public async Task EmitWithAckResolvesWithTheClientAnswer()
    {
        var server = new TestServer();
        var (connection, sid) = server.Connect();
        var socket = server.Socket(sid);
        var answer = socket.EmitWithAckAsync<Order>("question", 1);
        var sent = connection.Texts.Single();
        var id = sent[2..sent.IndexOf('[')];
        Assert.Equal($"42{id}[\"question\",1]", sent);
        connection.Receive($"3{id}[{{\"id\":3,\"items\":[]}}]");
        Assert.Equal(3, (await answer.DefaultTimeout())!.Id);
    }

    [Fact]
    public async Task EmitWithAckTimesOutAndALateAnswerIsIgnored()
    {
        var server = new TestServer();
        var (connection, sid) = server.Connect();
        var answer = server.Socket(sid).Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("q");
        var id = connection.LastText[2..connection.LastText.IndexOf('[')];
        server.Time.Advance(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => answer.WaitAsync(TaskTimeoutExtensions.DefaultTimeoutSpan));
        Assert.Contains("did not acknowledge", error.Message);
        connection.Receive($"3{id}[\"late\"]");
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public void AckWithUnknownIdIsIgnored()
    {
        var server = new TestServer();
        var (connection, _) = server.Connect();
        connection.Receive("3999[\"nobody asked\"]");
        connection.Receive("61-998[{\"_placeholder\":true,\"num\":0}]");
        connection.ReceiveBinary([1]);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task PendingAcksFailWhenTheSocketDisconnects()
    {
        var server = new TestServer();
        var (connection, sid) = server.Connect();
        var answer = server.Socket(sid).EmitWithAckAsync("q");
        connection.End("transport close");
        await Assert.ThrowsAsync<SocketDisconnectedException>(() => answer.DefaultTimeout());
    }

    [Fact]
    public void ReservedEventNamesCannotBeEmitted()
    {
        var server = new TestServer();
        var (_, sid) = server.Connect();
        Assert.Throws<ArgumentException>(() => server.Socket(sid).Emit("disconnect"));
        Assert.Throws<ArgumentException>(() => server.Io.Emit("connect"));
    }

    [Fact]
    public void AnyListenersRunInOrderAndCanBeRemoved()
    {
        var server = new TestServer();
        var calls = new List<string>();
        Action<string, IReadOnlyList<JsonElement>> first = (name, args) => calls.Add($"first:{name}:{args.Count}");
        Action<string, IReadOnlyList<JsonElement>> second = (name, _) => calls.Add("second:" + name);
        server.Io.OnConnection(s =>
        {
            s.OnAny(first);
            s.PrependAny(second);
            s.On("x", () => calls.Add("handler"));
        });
        var (connection, sid) = server.Connect();
        connection.Receive("2[\"x\",1,2]");
        Assert.Equal(["second:x", "first:x:2", "handler"], calls);
        calls.Clear();
        server.Socket(sid).OffAny(second);
        connection.Receive("2[\"y\"]");
        Assert.Equal(["first:y:0"], calls);
        calls.Clear();
        server.Socket(sid).OffAny();
        connection.Receive("2[\"y\"]");
        Assert.Empty(calls);
    }

    [Fact]
    public void OutgoingAnyListenersSeeEmitsAndBroadcasts()
    {
        var server = new TestServer();
        var calls = new List<string>();
        server.Io.OnConnection(s => s.OnAnyOutgoing((name, args) => calls.Add($"{name}:{args.Count}")));
        var (_, sid) = server.Connect();
        var socket = server.Socket(sid);
        socket.Emit("direct", 1, 2);
        server.Io.Emit("all", "x");
        Assert.Equal(["direct:2", "all:1"], calls);
        socket.OffAnyOutgoing();
        socket.Emit("direct");
        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public void SocketMiddlewareCanRejectAnEventIntoTheErrorHandler()
    {
        var server = new TestServer();
        var handled = new List<string>();
        Exception? error = null;
        server.Io.OnConnection(s =>
        {
            s.Use((e, next) => e.Name == "forbidden" ? throw new UnauthorizedAccessException("no") : next());
            s.OnError(ex => error = ex);
            s.On("forbidden", () => handled.Add("forbidden"));
            s.On("allowed", () => handled.Add("allowed"));
        });
        var (connection, _) = server.Connect();
        connection.Receive("2[\"forbidden\"]");
        connection.Receive("2[\"allowed\"]");
        Assert.Equal(["allowed"], handled);
        Assert.IsType<UnauthorizedAccessException>(error);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public void HandlerExceptionsGoToTheErrorHandlerAndDoNotCloseTheConnection()
    {
        var server = new TestServer();
        Exception? error = null;
        server.Io.OnConnection(s =>
        {
            s.OnError(ex => error = ex);
            s.On<int>("n", _ => throw new InvalidOperationException("boom"));
        });
        var (connection, _) = server.Connect();
        connection.Receive("2[\"n\",1]");
        connection.Receive("2[\"n\",\"not a number\"]");
        Assert.NotNull(error);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task AsyncHandlersKeepTheirArgumentsUntilTheyComplete()
    {
        var server = new TestServer();
        var gate = new TaskCompletionSource();
        var result = new TaskCompletionSource<string>();
        server.Io.OnConnection(s => s.On("later", async e =>
        {
            await gate.Task;
            result.SetResult(e.Args[0].GetString()!);
        }));
        var (connection, _) = server.Connect();
        connection.Receive("2[\"later\",\"kept\"]");
        connection.Receive("2[\"other\",\"reuses the pool\"]");
        gate.SetResult();
        Assert.Equal("kept", await result.Task.DefaultTimeout());
    }

    [Fact]
    public void RelayArgsReEmitBinaryUnchanged()
    {
        var server = new TestServer();
        server.Io.OnConnection(s => s.On("m", e => s.Emit("m-back", e.GetRelayArgs())));
        var (connection, _) = server.Connect();
        connection.Receive("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        connection.ReceiveBinary([1]);
        connection.ReceiveBinary([2]);
        Assert.Equal("452-[\"m-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", connection.Texts.Single());
        Assert.Equal(3, connection.Sent.Count);
    }

    [Fact]
    public void VolatileEmitIsDroppedWhenNotWritable()
    {
        var server = new TestServer();
        var (connection, sid) = server.Connect();
        connection.Writable = false;
        Assert.False(server.Socket(sid).Volatile.Emit("tick"));
        Assert.True(server.Socket(sid).Emit("important"));
        Assert.Equal(["42[\"important\"]"], connection.Texts);
    }

    private sealed record Order(int Id, string[] Items);

    private sealed record FilePayload(string Name, ReadOnlyMemory<byte> Data);
}
