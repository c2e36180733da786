using System.Diagnostics;
using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Cluster.Tests;

/// <summary>
/// What every bus must give the cluster adapter: three nodes on real Kestrel sharing one bus behave like one
/// server. Run on the in-memory bus and on a real redis-server. "Did not arrive" is asserted by a sentinel
/// emitted afterwards by the same publisher: the next packet a client reads must be the sentinel.
/// </summary>
public abstract partial class ClusterAdapterSpecification
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..6];

    /// <summary>Registers this bus for node <paramref name="node"/>.</summary>
    protected abstract void ConfigureBus(IServiceCollection services, string node);

    /// <summary>A bus for a process with no web server (a worker).</summary>
    protected abstract Task<IMessageBus> CreateWorkerBusAsync(string node);

    protected string NodeName(int i) => $"web-{i}-{_run}";

    protected async Task<ClusterNode[]> StartNodesAsync(int count, Action<SocketIOServer>? setup = null)
    {
        var nodes = new ClusterNode[count];
        for (var i = 0; i < count; i++)
        {
            var name = NodeName(i + 1);
            nodes[i] = await ClusterNode.StartAsync(name, s => ConfigureBus(s, name), setup: setup);
        }

        foreach (var node in nodes)
        {
            await node.WaitForNodesAsync(count - 1);
        }

        return nodes;
    }

    protected static async Task DisposeAllAsync(params IAsyncDisposable[] items)
    {
        foreach (var item in items)
        {
            await item.DisposeAsync();
        }
    }

    [Fact]
    public async Task ABroadcastToRoomsReachesEveryMemberOnEveryNodeExactlyOnce()
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var c = await nodes[2].ConnectAsync();
        var d = await nodes[2].ConnectAsync(null, "news", "sports");
        try
        {
            Assert.Equal(3, await nodes[0].Io.Sockets.Adapter.ServerCountAsync().DefaultTimeout());

            nodes[0].Io.To("news").To("sports").Emit("flash", "hi", 1);
            nodes[0].Io.Emit("end"); // same publisher: arrives after "flash" wherever "flash" arrives

            foreach (var member in new[] { a, b, d })
            {
                Assert.Equal("2[\"flash\",\"hi\",1]", await member.NextAsync());
                Assert.Equal("2[\"end\"]", await member.NextAsync());
            }

            Assert.Equal("2[\"end\"]", await c.NextAsync());
        }
        finally
        {
            await DisposeAllAsync(a, b, c, d);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task ExceptSkipsMembersEverywhereAndLocalStaysOnItsNode()
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync();
        var c = await nodes[2].ConnectAsync(null, "news");
        var d = await nodes[2].ConnectAsync();
        try
        {
            nodes[0].Io.Except("news").Emit("not-news");
            nodes[0].Io.Except(d.Id).To("news").Emit("news-but-d");
            nodes[2].Io.Local.Emit("local-3");
            nodes[2].Io.Local.Except("news").Emit("local-3-not-news");
            nodes[0].Io.Emit("end-1");
            nodes[2].Io.Emit("end-3");

            // Two publishers: their streams interleave freely, so compare what arrived before both sentinels.
            Assert.Equal(["end-1", "end-3", "news-but-d"], (await NamesAsync(a, 3)).Order());
            Assert.Equal(["end-1", "end-3", "not-news"], (await NamesAsync(b, 3)).Order());
            Assert.Equal(["end-1", "end-3", "local-3", "news-but-d"], (await NamesAsync(c, 4)).Order());
            Assert.Equal(["end-1", "end-3", "local-3", "local-3-not-news", "not-news"], (await NamesAsync(d, 5)).Order());
        }
        finally
        {
            await DisposeAllAsync(a, b, c, d);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task FetchSocketsSeesEveryNodeAndRemoteSocketsActOnTheirOwningNode()
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync("ada", "news");
        var b = await nodes[1].ConnectAsync("bob", "news");
        var c = await nodes[2].ConnectAsync("cy");
        try
        {
            var sockets = await nodes[0].Io.In("news").FetchSocketsAsync().DefaultTimeout();
            Assert.Equal(new[] { a.Id, b.Id }.Order(), sockets.Select(s => s.Id).Order());
            var remote = Assert.IsType<ClusterRemoteSocket>(sockets.Single(s => s.Id == b.Id));
            Assert.Equal(nodes[1].Name, remote.Node);
            Assert.Null(remote.LocalSocket);
            Assert.Equal("bob", ((JsonElement)remote.Data["user"]!).GetString());
            Assert.Contains("news", remote.Rooms);
            Assert.Equal("bob", remote.Handshake!.Auth.GetProperty("user").GetString());
            Assert.NotNull(sockets.Single(s => s.Id == a.Id).LocalSocket);

            var all = await nodes[1].Io.FetchSocketsAsync().DefaultTimeout();
            Assert.Equal(3, all.Count);

            remote.Emit("direct", 42);
            remote.Join("vip");
            Assert.Equal("2[\"direct\",42]", await b.NextAsync());
            await WaitForRoomAsync(nodes[1], b.Id, "vip");
            nodes[2].Io.To("vip").Emit("vip-only");
            Assert.Equal("2[\"vip-only\"]", await b.NextAsync());

            remote.Leave("vip");
            await WaitForRoomAsync(nodes[1], b.Id, "vip", member: false);
            remote.Disconnect();
            Assert.Equal("1", await b.NextAsync());

            nodes[0].Io.Emit("end");
            Assert.Equal(["end"], await NamesAsync(a, 1));
            Assert.Equal(["end"], await NamesAsync(c, 1));
        }
        finally
        {
            await DisposeAllAsync(a, b, c);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task SocketsJoinLeaveAndDisconnectSocketsWorkAcrossNodes()
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var c = await nodes[2].ConnectAsync();
        try
        {
            nodes[2].Io.In("news").SocketsJoin("room2");
            await WaitForRoomAsync(nodes[0], a.Id, "room2");
            await WaitForRoomAsync(nodes[1], b.Id, "room2");
            nodes[2].Io.To("room2").Emit("r2");
            Assert.Equal(["r2"], await NamesAsync(a, 1));
            Assert.Equal(["r2"], await NamesAsync(b, 1));

            nodes[0].Io.In(b.Id).SocketsLeave("news");
            await WaitForRoomAsync(nodes[1], b.Id, "news", member: false);
            nodes[0].Io.To("news").Emit("news");
            nodes[0].Io.Emit("end");
            Assert.Equal(["news", "end"], await NamesAsync(a, 2));
            Assert.Equal(["end"], await NamesAsync(b, 1));
            Assert.Equal(["end"], await NamesAsync(c, 1));

            nodes[0].Io.Except("room2").DisconnectSockets();
            Assert.Equal("1", await c.NextAsync());
            nodes[2].Io.In("room2").DisconnectSockets(close: true);
            Assert.Equal("1", await a.NextAsync());
            Assert.Equal("1", await b.NextAsync());
        }
        finally
        {
            await DisposeAllAsync(a, b, c);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task BroadcastAcksAreCountedAcrossNodesAndATimeoutKeepsThePartialAnswers()
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var c = await nodes[2].ConnectAsync(null, "news");
        try
        {
            var all = nodes[0].Io.Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("question", 1);
            foreach (var client in new[] { a, b, c })
            {
                await client.AckAsync(await client.ExpectEventAsync("question"), $"[\"{client.Node}\"]");
            }

            var answers = await all.DefaultTimeout();
            Assert.Equal(new[] { a.Id, b.Id, c.Id }.Order(), answers.Select(r => r.SocketId).Order());
            Assert.Contains(answers, r => r.SocketId == b.Id && r.Get<string>() == nodes[1].Name);

            var partial = nodes[1].Io.To("news").Timeout(TimeSpan.FromSeconds(3)).EmitWithAckAsync("question", 2);
            await a.AckAsync(await a.ExpectEventAsync("question"), "[\"a\"]");
            await b.AckAsync(await b.ExpectEventAsync("question"), "[\"b\"]");
            await c.ExpectEventAsync("question"); // c never answers
            var timeout = await Assert.ThrowsAsync<BroadcastTimeoutException>(() => partial.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(new[] { a.Id, b.Id }.Order(), timeout.Responses.Select(r => r.SocketId).Order());
            Assert.Equal(3, timeout.Expected);
        }
        finally
        {
            await DisposeAllAsync(a, b, c);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task ServerSideEmitReachesTheOtherNodes()
    {
        var received = new TaskCompletionSource<string>[3];
        for (var i = 0; i < 3; i++)
        {
            received[i] = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        var index = 0;
        var nodes = await StartNodesAsync(3, io =>
        {
            var mine = received[index++];
            io.Sockets.OnServerSideEmit("hello", args => mine.TrySetResult(args[0].GetString() + args[1].GetInt32()));
        });
        try
        {
            nodes[0].Io.Sockets.ServerSideEmit("hello", "from-1:", 7);
            Assert.Equal("from-1:7", await received[1].Task.DefaultTimeout());
            Assert.Equal("from-1:7", await received[2].Task.DefaultTimeout());
            Assert.False(received[0].Task.IsCompleted);
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task ANodeThatStopsHeartbeatingDoesNotStallFetchSockets()
    {
        var nodes = await StartNodesAsync(2);
        var a = await nodes[0].ConnectAsync();
        var b = await nodes[1].ConnectAsync();
        try
        {
            // A ghost node says it is alive once, then goes silent: it never answers requests.
            var ghost = new ClusterEnvelope { Source = "ghost-" + NodeName(9), Kind = ClusterEnvelopeKinds.Heartbeat, Namespace = "/" };
            await nodes[1].Bus.PublishAsync(SocketIOChannels.ForNamespace("sio", "/"), ClusterEnvelopeCodec.Encode(ghost)).DefaultTimeout();
            await nodes[0].WaitForNodesAsync(2);

            var watch = Stopwatch.StartNew();
            var sockets = await nodes[0].Io.FetchSocketsAsync().DefaultTimeout();
            watch.Stop();

            Assert.Equal(new[] { a.Id, b.Id }.Order(), sockets.Select(s => s.Id).Order());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"waited {watch.Elapsed} (request timeout is 10 s, heartbeat timeout 2 s)");
            Assert.Equal(2, await nodes[0].Io.Sockets.Adapter.ServerCountAsync().DefaultTimeout());
        }
        finally
        {
            await DisposeAllAsync(a, b);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task AWorkerWithOnlyABusPushesToBrowsersOnEveryNodeOrOne()
    {
        var nodes = await StartNodesAsync(2);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var c = await nodes[1].ConnectAsync();
        var workerBus = await CreateWorkerBusAsync("rpc-" + NodeName(0));
        var ws = new SocketIOEmitter(workerBus);
        try
        {
            await ws.EmitAsync("greeting", "Hello, World!").DefaultTimeout();
            await ws.Via(nodes[1].Name).EmitAsync("via-2").DefaultTimeout();
            await ws.Via(nodes[1].Name).To(a.Id).EmitAsync("a-is-not-on-2").DefaultTimeout();
            await ws.To(a.Id).EmitAsync("just-a", new { Text = "x" }).DefaultTimeout();
            await ws.Of("/").To("news").Except(b.Id).Compress(false).EmitAsync("news-not-b").DefaultTimeout();
            await ws.To("news").EmitAsync("bin", new byte[] { 1, 2, 3 }).DefaultTimeout();
            await ws.EmitAsync("end").DefaultTimeout();

            Assert.Equal("2[\"greeting\",\"Hello, World!\"]", await a.NextAsync());
            Assert.Equal("2[\"just-a\",{\"text\":\"x\"}]", await a.NextAsync());
            Assert.Equal("2[\"news-not-b\"]", await a.NextAsync());
            Assert.Equal("51-[\"bin\",{\"_placeholder\":true,\"num\":0}]", await a.NextAsync());
            Assert.Equal(new byte[] { 1, 2, 3 }, await a.Raw.ReceiveBinaryAsync().DefaultTimeout());
            Assert.Equal(["end"], await NamesAsync(a, 1));

            Assert.Equal(["greeting", "via-2", "bin"], await NamesAsync(b, 3));
            Assert.Equal(new byte[] { 1, 2, 3 }, await b.Raw.ReceiveBinaryAsync().DefaultTimeout());
            Assert.Equal(["end"], await NamesAsync(b, 1));
            Assert.Equal(["greeting", "via-2", "end"], await NamesAsync(c, 3));

            var acks = ws.Via(nodes[1].Name).To("news").Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("question");
            await b.AckAsync(await b.ExpectEventAsync("question"), "[\"yes\",2]");
            var answer = Assert.Single(await acks.DefaultTimeout());
            Assert.Equal((b.Id, nodes[1].Name, "yes", 2), (answer.SocketId, answer.Node, answer.Get<string>(0), answer.Get<int>(1)));
        }
        finally
        {
            await ws.DisposeAsync();
            await workerBus.DisposeAsync();
            await DisposeAllAsync(a, b, c);
            await DisposeAllAsync(nodes);
        }
    }

    /// <summary>The event names of the next <paramref name="count"/> packets.</summary>
    protected static async Task<string[]> NamesAsync(TestClient client, int count)
    {
        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            var packet = await client.NextAsync();
            var json = packet[packet.IndexOf('[')..];
            names[i] = JsonDocument.Parse(json).RootElement[0].GetString()!;
        }

        return names;
    }

    /// <summary>Waits until the owning node's adapter shows the socket in (or out of) the room (join/leave travel the bus).</summary>
    protected static async Task WaitForRoomAsync(ClusterNode node, string socketId, string room, bool member = true)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnJoined(string r, string id)
        {
            if (member && r == room && id == socketId)
            {
                done.TrySetResult();
            }
        }

        void OnLeft(string r, string id)
        {
            if (!member && r == room && id == socketId)
            {
                done.TrySetResult();
            }
        }

        var adapter = node.Io.Sockets.Adapter;
        adapter.RoomJoined += OnJoined;
        adapter.RoomLeft += OnLeft;
        try
        {
            if ((adapter.SocketRooms(socketId)?.Contains(room) ?? false) == member)
            {
                return;
            }

            await done.Task.DefaultTimeout();
        }
        finally
        {
            adapter.RoomJoined -= OnJoined;
            adapter.RoomLeft -= OnLeft;
        }
    }
}
