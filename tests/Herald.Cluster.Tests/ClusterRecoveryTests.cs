using System.Text.Json;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Cluster.Tests;

/// <summary>
/// Connection-state recovery across nodes: a client of node A loses its connection while node B broadcasts, comes
/// back on node B with its pid and last offset, and gets its id, rooms, data and every missed packet once, in order.
/// </summary>
public abstract class ClusterRecoverySpecification
{
    protected abstract void ConfigureBus(IServiceCollection services, string node);

    /// <summary>A bus for a worker process (no Socket.IO server): where <see cref="SocketIOEmitter"/> publishes from.</summary>
    protected abstract Task<IMessageBus> CreateWorkerBusAsync(string node);

    private Task<ClusterNode> StartAsync(string name)
        => ClusterNode.StartAsync(name, s => ConfigureBus(s, name), configureIo: o => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions());

    /// <summary>Opens a raw client, sends CONNECT with <paramref name="auth"/>, returns it with the sid and pid of the answer.</summary>
    private static async Task<(SocketIOTestClient Client, string Sid, string Pid)> ConnectAsync(ClusterNode node, object auth)
    {
        var client = await SocketIOTestClient.ConnectWebSocketAsync(node.BaseUri).DefaultTimeout();
        await client.SendAsync("0" + JsonSerializer.Serialize(auth)).DefaultTimeout();
        var answer = await client.ReceiveTextAsync().DefaultTimeout();
        Assert.StartsWith("0{", answer);
        var data = JsonDocument.Parse(answer[1..]).RootElement;
        return (client, data.GetProperty("sid").GetString()!, data.GetProperty("pid").GetString()!);
    }

    /// <summary>Reads <paramref name="count"/> events: (event name, number, offset).</summary>
    private static async Task<List<(string Event, int Number, string Offset)>> ReadAsync(SocketIOTestClient client, int count)
    {
        var result = new List<(string, int, string)>();
        while (result.Count < count)
        {
            var text = await client.ReceiveTextAsync().DefaultTimeout();
            Assert.StartsWith("2[", text);
            var array = JsonDocument.Parse(text[1..]).RootElement;
            Assert.Equal(3, array.GetArrayLength());
            result.Add((array[0].GetString()!, array[1].GetInt32(), array[2].GetString()!));
        }

        return result;
    }

    [Fact]
    public async Task AClientOfOneNodeRecoversOnAnotherWithEveryMissedPacketOnce()
    {
        await using var a = await StartAsync("node-a");
        await using var b = await StartAsync("node-b");
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);

        var (client, sid, pid) = await ConnectAsync(a, new { rooms = new[] { "news" }, user = "ada" });
        for (var i = 1; i <= 3; i++)
        {
            b.Io.To("news").Emit("n", i);
        }

        var first = await ReadAsync(client, 3);
        Assert.Equal([1, 2, 3], first.Select(e => e.Number));

        // The connection drops after packet 2 was processed (3 is "lost"); B goes on broadcasting, A too.
        await client.DisposeAsync();
        b.Io.To("news").Emit("n", 4);
        b.Io.To("sports").Emit("n", -1); // not for it
        a.Io.Emit("n", 5);
        b.Io.Except("news").Emit("n", -2); // not for it

        var (back, backSid, backPid) = await ConnectAsync(b, new { pid, offset = first[1].Offset });
        await using (back)
        {
            Assert.Equal(sid, backSid);
            Assert.Equal(pid, backPid);
            var replay = await ReadAsync(back, 3);
            Assert.Equal(3, replay[0].Number);
            Assert.Equal([4, 5], replay.Skip(1).Select(e => e.Number).Order()); // 4 (B) and 5 (A) in bus order, which may differ from call order
            var socket = b.Io.Sockets.Sockets[sid];
            Assert.True(socket.Recovered);
            Assert.Contains("news", socket.Rooms);
            Assert.Equal("ada", socket.Data["user"]?.ToString());

            // Live on B now, and reachable from A: each new packet once, nothing replayed twice.
            a.Io.To("news").Emit("n", 6);
            Assert.Equal(6, (await ReadAsync(back, 1))[0].Number);
            b.Io.To(sid).Emit("n", 7);
            Assert.Equal(7, (await ReadAsync(back, 1))[0].Number);
            b.Io.Emit("end", 8);
            Assert.Equal(("end", 8), (await ReadAsync(back, 1)).Select(e => (e.Event, e.Number)).Single());
        }
    }

    [Fact]
    public async Task ANumberedStreamSurvivesADropMidStreamWithNoGapAndNoDuplicate()
    {
        await using var a = await StartAsync("node-a");
        await using var b = await StartAsync("node-b");
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);
        var (client, sid, pid) = await ConnectAsync(a, new { rooms = Array.Empty<string>() });

        // B emits 1..400 while the client reads up to 100, drops, and comes back on B (or A) mid-stream.
        const int total = 400;
        var producer = Task.Run(() =>
        {
            for (var i = 1; i <= total; i++)
            {
                b.Io.Emit("n", i);
            }
        });
        var before = await ReadAsync(client, 100);
        await client.DisposeAsync();
        var (back, backSid, _) = await ConnectAsync(b, new { pid, offset = before[^1].Offset });
        await using (back)
        {
            Assert.Equal(sid, backSid);
            var after = await ReadAsync(back, total - 100);
            await producer.DefaultTimeout();
            Assert.Equal(Enumerable.Range(1, total), before.Concat(after).Select(e => e.Number));
            Assert.Equal(total, before.Concat(after).Select(e => e.Offset).Distinct().Count());
        }
    }

    [Fact]
    public async Task AWorkersEmitterStreamIsRecoveredOnAnotherNode_WithTheSameOffsetsOnEveryNode()
    {
        await using var a = await StartAsync("node-a");
        await using var b = await StartAsync("node-b");
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);
        var workerBus = await CreateWorkerBusAsync("worker");
        await using var ws = new SocketIOEmitter(workerBus);
        try
        {
            var (client, sid, pid) = await ConnectAsync(a, new { rooms = new[] { "orders" } });

            // The worker pushes 1..300 to the room while the client reads 100 on A, drops, and comes back on B.
            const int total = 300;
            var producer = Task.Run(async () =>
            {
                for (var i = 1; i <= total; i++)
                {
                    await ws.To("orders").EmitAsync("n", i);
                }
            });
            var before = await ReadAsync(client, 100);
            await client.DisposeAsync();
            var (back, backSid, _) = await ConnectAsync(b, new { pid, offset = before[^1].Offset });
            await using (back)
            {
                Assert.Equal(sid, backSid);
                var after = await ReadAsync(back, total - 100);
                await producer.DefaultTimeout();
                Assert.Equal(Enumerable.Range(1, total), before.Concat(after).Select(e => e.Number));
                Assert.Equal(total, before.Concat(after).Select(e => e.Offset).Distinct().Count());

                // A volatile push is delivered without an offset (it is not logged), then a normal one gets one again.
                await ws.To("orders").Volatile.EmitAsync("v", 1);
                var text = await back.ReceiveTextAsync().DefaultTimeout();
                Assert.Equal("2[\"v\",1]", text);
                await ws.To("orders").EmitAsync("n", total + 1);
                Assert.Equal(total + 1, (await ReadAsync(back, 1))[0].Number);
            }
        }
        finally
        {
            await workerBus.DisposeAsync();
        }
    }
}

/// <summary>Recovery across nodes on one in-memory bus.</summary>
public sealed class InMemoryClusterRecoveryTests : ClusterRecoverySpecification, IAsyncDisposable
{
    private readonly InMemoryMessageBus _shared = new(new HeraldNode("shared"), NullLogger<InMemoryMessageBus>.Instance);

    protected override void ConfigureBus(IServiceCollection services, string node)
        => services.AddSingleton<IMessageBus>(new NodeBusView(_shared, node));

    protected override Task<IMessageBus> CreateWorkerBusAsync(string node) => Task.FromResult<IMessageBus>(new NodeBusView(_shared, node));

    public ValueTask DisposeAsync() => _shared.DisposeAsync();
}

/// <summary>Recovery across nodes over a real redis-server.</summary>
public sealed class RedisClusterRecoveryTests(RedisFixture redis) : ClusterRecoverySpecification, IClassFixture<RedisFixture>
{
    protected override void ConfigureBus(IServiceCollection services, string node) => RedisFixture.AddBus(services, redis.Server);

    protected override async Task<IMessageBus> CreateWorkerBusAsync(string node)
    {
        var bus = RedisFixture.CreateBus(redis.Server, node);
        await bus.WaitConnectedForTestAsync();
        return bus;
    }
}
