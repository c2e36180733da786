using System.Text.Json;
using Herald.Messaging;
using Herald.Redis;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Cluster.Tests;

/// <summary>The Redis Streams bus (<c>AddHeraldRedisStreams</c>, <c>Herald:Redis:Bus=Streams</c>) under the cluster adapter.</summary>
internal static class StreamsBus
{
    public static void Add(IServiceCollection services, RedisServerFixture server)
        => services.AddHeraldRedisStreams(server.ConnectionString, o =>
        {
            o.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
            o.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
        });

    public static RedisStreamsMessageBus Create(RedisServerFixture server, string node)
    {
        var options = new RedisStreamsMessageBusOptions { Connection = RedisConnectionOptions.Parse(server.ConnectionString) };
        return new RedisStreamsMessageBus(new HeraldNode(node), Options.Create(options));
    }

    /// <summary>A redis-server that keeps its data through <c>kill -9</c> (AOF, fsync on every write).</summary>
    public static Task<RedisServerFixture> StartPersistentAsync()
        => RedisServerFixture.StartAsync("--appendonly", "yes", "--appendfsync", "always", "--dir", Directory.CreateTempSubdirectory("herald-streams-").FullName);
}

/// <summary>The cluster adapter specification with every node on the Redis Streams bus.</summary>
public sealed class RedisStreamsClusterTests(RedisFixture redis) : ClusterAdapterSpecification, IClassFixture<RedisFixture>
{
    protected override void ConfigureBus(IServiceCollection services, string node) => StreamsBus.Add(services, redis.Server);

    protected override async Task<IMessageBus> CreateWorkerBusAsync(string node)
    {
        var bus = StreamsBus.Create(redis.Server, node);
        await bus.WaitConnectedForTestAsync();
        return bus;
    }
}

/// <summary>Connection-state recovery across nodes over the Redis Streams bus: the existing mechanism, unchanged.</summary>
public sealed class RedisStreamsClusterRecoveryTests(RedisFixture redis) : ClusterRecoverySpecification, IClassFixture<RedisFixture>
{
    protected override void ConfigureBus(IServiceCollection services, string node) => StreamsBus.Add(services, redis.Server);

    protected override async Task<IMessageBus> CreateWorkerBusAsync(string node)
    {
        var bus = StreamsBus.Create(redis.Server, node);
        await bus.WaitConnectedForTestAsync();
        return bus;
    }
}

/// <summary>Socket.IO nodes on the Streams bus through a Redis outage.</summary>
public sealed class RedisStreamsClusterOutageTests
{
    private static async Task<List<int>> ReadNumbersAsync(SocketIOTestClient client, int count)
    {
        var numbers = new List<int>();
        while (numbers.Count < count)
        {
            var text = await client.ReceiveTextAsync().DefaultTimeout();
            Assert.StartsWith("2[", text);
            numbers.Add(JsonDocument.Parse(text[1..]).RootElement[1].GetInt32());
        }

        return numbers;
    }

    [Fact]
    public async Task RedisKilled_EveryBroadcastReachesTheClientsOfBothNodesOnce_InOrder_LocalOnesAtOnce()
    {
        await using var redis = await StreamsBus.StartPersistentAsync();
        await using var a = await ClusterNode.StartAsync("node-a", s => StreamsBus.Add(s, redis));
        await using var b = await ClusterNode.StartAsync("node-b", s => StreamsBus.Add(s, redis));
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);
        await using var local = await a.ConnectAsync();
        await using var remote = await b.ConnectAsync();
        var sent = 0;
        void Emit(int count)
        {
            for (var i = 0; i < count; i++)
            {
                a.Io.Emit("n", ++sent);
            }
        }

        Emit(100);
        var localNumbers = await ReadNumbersAsync(local.Raw, 100);
        var remoteNumbers = await ReadNumbersAsync(remote.Raw, 100);

        var down = a.Bus.WaitForStateAsync(MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down;
        Emit(1000);
        localNumbers.AddRange(await ReadNumbersAsync(local.Raw, 1000)); // while Redis is down

        var up = Task.WhenAll(a.Bus.WaitForStateAsync(MessageBusState.Connected), b.Bus.WaitForStateAsync(MessageBusState.Connected));
        await redis.RestartAsync().DefaultTimeout();
        await up;
        Emit(100);
        localNumbers.AddRange(await ReadNumbersAsync(local.Raw, 100));
        remoteNumbers.AddRange(await ReadNumbersAsync(remote.Raw, 1100));

        Assert.Equal(Enumerable.Range(1, sent), localNumbers);
        Assert.Equal(Enumerable.Range(1, sent), remoteNumbers);
        var busA = (RedisStreamsMessageBus)a.Bus;
        Assert.Equal(0, busA.Counters.Dropped);
        Assert.Equal(0, ((RedisStreamsMessageBus)b.Bus).Counters.Missed);
    }

    [Fact]
    public async Task AClientThatDroppedDuringAnOutage_Recovers_WithWhatAnotherNodeBroadcastMeanwhile_ThroughTheStream()
    {
        await using var redis = await StreamsBus.StartPersistentAsync();
        Action<SocketIOOptions> recovery = o => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions();
        await using var a = await ClusterNode.StartAsync("node-a", s => StreamsBus.Add(s, redis), configureIo: recovery);
        await using var b = await ClusterNode.StartAsync("node-b", s => StreamsBus.Add(s, redis), configureIo: recovery);
        await a.WaitForNodesAsync(1);
        await b.WaitForNodesAsync(1);

        var client = await SocketIOTestClient.ConnectWebSocketAsync(a.BaseUri).DefaultTimeout();
        await client.SendAsync("0{}").DefaultTimeout();
        var answer = JsonDocument.Parse((await client.ReceiveTextAsync().DefaultTimeout())[1..]).RootElement;
        var sid = answer.GetProperty("sid").GetString()!;
        var pid = answer.GetProperty("pid").GetString()!;
        await using var witness = await a.ConnectAsync(); // tells when A has B's broadcasts

        for (var i = 1; i <= 3; i++)
        {
            b.Io.Emit("n", i);
        }

        var offsets = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            var array = JsonDocument.Parse((await client.ReceiveTextAsync().DefaultTimeout())[1..]).RootElement;
            Assert.Equal(i, array[1].GetInt32());
            offsets.Add(array[2].GetString()!);
        }

        Assert.Equal([1, 2, 3], await ReadNumbersAsync(witness.Raw, 3));

        // Redis goes down; B broadcasts 4..6 (its own clients get them at once, A's cannot); the client loses A.
        var down = b.Bus.WaitForStateAsync(MessageBusState.Disconnected);
        await redis.StopAsync().DefaultTimeout();
        await down;
        for (var i = 4; i <= 6; i++)
        {
            b.Io.Emit("n", i);
        }

        await client.DisposeAsync();
        var up = Task.WhenAll(a.Bus.WaitForStateAsync(MessageBusState.Connected), b.Bus.WaitForStateAsync(MessageBusState.Connected));
        await redis.RestartAsync().DefaultTimeout();
        await up;

        // A reads 4..6 from the stream once Redis is back (the witness shows it) and logs them in stream order: the
        // client's missed packets come from there.
        Assert.Equal([4, 5, 6], await ReadNumbersAsync(witness.Raw, 3));
        await using var back = await SocketIOTestClient.ConnectWebSocketAsync(a.BaseUri).DefaultTimeout();
        await back.SendAsync("0" + JsonSerializer.Serialize(new { pid, offset = offsets[^1] })).DefaultTimeout();
        var backAnswer = JsonDocument.Parse((await back.ReceiveTextAsync().DefaultTimeout())[1..]).RootElement;
        Assert.Equal(sid, backAnswer.GetProperty("sid").GetString());
        Assert.Equal([4, 5, 6], await ReadNumbersAsync(back, 3));
    }
}
