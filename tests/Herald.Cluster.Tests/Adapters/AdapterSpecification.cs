using System.Collections.Concurrent;
using System.Text.Json;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Cluster.Tests.Adapters;

/// <summary>
/// What every <see cref="IAdapter"/> must do on one server, asserted through real clients on real Kestrel: rooms
/// and their events, broadcasts (rooms, except, each client once), socket queries and actions, broadcast acks, and
/// (for an <see cref="ISessionAwareAdapter"/>) connection-state recovery. Run against the built-in adapters and
/// against <see cref="ThirdPartyAdapter"/>, written in this assembly from the public surface alone.
/// "Did not arrive" is asserted with a sentinel emitted afterwards: the next packet a client reads must be it.
/// </summary>
public abstract class AdapterSpecification
{
    /// <summary>Makes the server's namespaces use the adapter under test.</summary>
    protected abstract void ConfigureAdapter(IServiceCollection services);

    private Task<AdapterHost> StartAsync() => AdapterHost.StartAsync(ConfigureAdapter);

    /// <summary>Completes once <paramref name="condition"/> holds, checked after every room change of <paramref name="adapter"/>.</summary>
    private static async Task WaitForRoomsAsync(IAdapter adapter, Func<bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(string room, string id)
        {
            if (condition())
            {
                done.TrySetResult();
            }
        }

        adapter.RoomJoined += Check;
        adapter.RoomLeft += Check;
        try
        {
            Check("", "");
            await done.Task.DefaultTimeout();
        }
        finally
        {
            adapter.RoomJoined -= Check;
            adapter.RoomLeft -= Check;
        }
    }

    private static async Task<List<string>> NamesAsync(TestClient client, int count)
    {
        var names = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var text = await client.NextAsync();
            Assert.StartsWith("2", text);
            names.Add(JsonDocument.Parse(text[text.IndexOf('[')..]).RootElement[0].GetString()!);
        }

        return names;
    }

    [Fact]
    public async Task BroadcastsReachEveryTargetedSocketOnceAndNoOther()
    {
        await using var host = await StartAsync();
        await using var a = await host.ConnectAsync("news");
        await using var b = await host.ConnectAsync("news", "sports");
        await using var c = await host.ConnectAsync();

        host.Io.To("news").To("sports").Emit("both", 1);
        host.Io.Except("news").Emit("not-news");
        host.Io.To("sports").Except(b.Id).Emit("sports-but-b");
        host.Io.To(c.Id).To(a.Id).Emit("direct");
        host.Io.Emit("end");

        Assert.Equal(["both", "direct", "end"], await NamesAsync(a, 3));
        Assert.Equal(["both", "end"], await NamesAsync(b, 2));
        Assert.Equal(["not-news", "direct", "end"], await NamesAsync(c, 3));
    }

    [Fact]
    public async Task RoomsAndTheirEventsFollowJoinsLeavesAndDisconnections()
    {
        await using var host = await StartAsync();
        var adapter = host.Adapter;
        var events = new ConcurrentQueue<string>();
        adapter.RoomCreated += room => events.Enqueue("create " + room);
        adapter.RoomDeleted += room => events.Enqueue("delete " + room);
        adapter.RoomJoined += (room, id) => events.Enqueue($"join {room} {id}");
        adapter.RoomLeft += (room, id) => events.Enqueue($"leave {room} {id}");

        var a = await host.ConnectAsync("news");
        await using var b = await host.ConnectAsync("news");
        Assert.Equal(new[] { a.Id, "news" }.Order(StringComparer.Ordinal), adapter.SocketRooms(a.Id)!.Order(StringComparer.Ordinal));
        Assert.Equal(new[] { a.Id, b.Id }.Order(), (await adapter.SocketsAsync(["news"]).AsTask().DefaultTimeout()).Order());
        Assert.Equal(new[] { a.Id, b.Id }.Order(), (await adapter.SocketsAsync([]).AsTask().DefaultTimeout()).Order());
        Assert.Contains("create news", events);
        Assert.Contains($"join news {a.Id}", events);
        Assert.Contains($"join news {b.Id}", events);

        await host.Io.Sockets.Sockets[b.Id].Leave("news").DefaultTimeout();
        Assert.DoesNotContain("news", adapter.SocketRooms(b.Id)!);
        Assert.Contains($"leave news {b.Id}", events);
        Assert.DoesNotContain("delete news", events);

        await a.DisposeAsync(); // the server notices the close and cleans the socket's rooms up
        await WaitForRoomsAsync(adapter, () => adapter.SocketRooms(a.Id) is null && events.Contains("delete news"));
        Assert.Equal(1, adapter.RoomCount); // b's own room
        Assert.Equal([b.Id], await adapter.SocketsAsync([]).AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task FetchSocketsAndSocketActionsReachTheMatchingSockets()
    {
        await using var host = await StartAsync();
        var adapter = host.Adapter;
        var (a, _) = await host.ConnectAsync(new { rooms = new[] { "news" }, user = "ada" });
        await using var disposeA = a;
        await using var b = await host.ConnectAsync("news");
        await using var c = await host.ConnectAsync();

        var news = await host.Io.In("news").Except(b.Id).FetchSocketsAsync().DefaultTimeout();
        var only = Assert.Single(news);
        Assert.Equal(a.Id, only.Id);
        Assert.Equal("ada", only.Data["user"]?.ToString());
        Assert.Contains("news", only.Rooms);
        Assert.Same(host.Io.Sockets.Sockets[a.Id], only.LocalSocket);

        host.Io.In("news").SocketsJoin("vip");
        await WaitForRoomsAsync(adapter, () => adapter.SocketRooms(a.Id)!.Contains("vip") && adapter.SocketRooms(b.Id)!.Contains("vip"));
        host.Io.In(a.Id).SocketsLeave("vip");
        await WaitForRoomsAsync(adapter, () => !adapter.SocketRooms(a.Id)!.Contains("vip"));
        host.Io.To("vip").Emit("vip");
        host.Io.Emit("end");
        Assert.Equal(["end"], await NamesAsync(a, 1));
        Assert.Equal(["vip", "end"], await NamesAsync(b, 2));
        Assert.Equal(["end"], await NamesAsync(c, 1));

        host.Io.Except("news").DisconnectSockets();
        Assert.Equal("1", await c.NextAsync());
        await WaitForRoomsAsync(adapter, () => adapter.SocketRooms(c.Id) is null);
        Assert.Equal(2, (await host.Io.FetchSocketsAsync().DefaultTimeout()).Count);
    }

    [Fact]
    public async Task ABroadcastWithAckCollectsOneAnswerPerReachedSocket()
    {
        await using var host = await StartAsync();
        await using var a = await host.ConnectAsync("news");
        await using var b = await host.ConnectAsync("news");
        await using var c = await host.ConnectAsync();

        var answers = host.Io.To("news").Timeout(TimeSpan.FromSeconds(20)).EmitWithAckAsync("question", 1);
        await a.AckAsync(await a.ExpectEventAsync("question"), "[\"from-a\"]");
        await b.AckAsync(await b.ExpectEventAsync("question"), "[\"from-b\"]");
        var responses = await answers.DefaultTimeout();
        Assert.Equal(["from-a", "from-b"], responses.Select(r => r.Get<string>(0)).Order());
        Assert.Equal(new[] { a.Id, b.Id }.Order(), responses.Select(r => r.SocketId).Order());

        host.Io.Emit("end");
        Assert.Equal(["end"], await NamesAsync(c, 1));
    }

    [Fact]
    public async Task ARecoveredClientGetsItsIdRoomsDataAndEveryMissedPacketOnce()
    {
        await using var host = await StartAsync();
        var adapter = host.Adapter;
        var (first, pid) = await host.ConnectAsync(new { rooms = new[] { "news" }, user = "ada" });
        Assert.NotNull(pid); // a session-aware adapter: the CONNECT answer carries the private session id
        host.Io.To("news").Emit("n", 1);
        host.Io.To("news").Emit("n", 2);
        var offsets = new List<string>();
        for (var i = 1; i <= 2; i++)
        {
            var array = JsonDocument.Parse((await first.NextAsync())[1..]).RootElement;
            Assert.Equal(i, array[1].GetInt32());
            offsets.Add(array[2].GetString()!);
        }

        // The transport drops; the server keeps the session once it saw the close (it left its own room).
        await first.DisposeAsync();
        await WaitForRoomsAsync(adapter, () => adapter.SocketRooms(first.Id) is null);
        host.Io.To("news").Emit("n", 3);
        host.Io.To("sports").Emit("n", -1); // not for it
        host.Io.Except("news").Emit("n", -2); // not for it
        host.Io.Emit("n", 4);

        var (back, backPid) = await host.ConnectAsync(new { pid, offset = offsets[0] });
        await using (back)
        {
            Assert.Equal(first.Id, back.Id);
            Assert.Equal(pid, backPid);
            var replay = new List<int>();
            for (var i = 0; i < 3; i++)
            {
                replay.Add(JsonDocument.Parse((await back.NextAsync())[1..]).RootElement[1].GetInt32());
            }

            Assert.Equal([2, 3, 4], replay);
            var socket = host.Io.Sockets.Sockets[back.Id];
            Assert.True(socket.Recovered);
            Assert.Contains("news", socket.Rooms);
            Assert.Equal("ada", socket.Data["user"]?.ToString());

            host.Io.To("news").Emit("n", 5);
            host.Io.Emit("end");
            Assert.Equal(5, JsonDocument.Parse((await back.NextAsync())[1..]).RootElement[1].GetInt32());
            Assert.Equal(["end"], await NamesAsync(back, 1));

            // A session is restored once: the same pid again, while its socket is connected, gets a new socket.
            var (again, againPid) = await host.ConnectAsync(new { pid, offset = offsets[0] });
            await using (again)
            {
                Assert.NotEqual(first.Id, again.Id);
                Assert.NotEqual(pid, againPid);
            }
        }
    }
}

/// <summary>The default adapter.</summary>
public sealed class InMemoryAdapterSpecification : AdapterSpecification
{
    protected override void ConfigureAdapter(IServiceCollection services)
    {
    }
}

/// <summary>The cluster adapter alone on the in-memory bus.</summary>
public sealed class ClusterAdapterOnInMemoryBusSpecification : AdapterSpecification
{
    protected override void ConfigureAdapter(IServiceCollection services)
    {
        services.AddClusterAdapter(o => ClusterNode.FastOptions(o));
        services.AddHeraldMessaging(o => o.NodeName = "solo-" + Guid.NewGuid().ToString("N")[..6]);
    }
}

/// <summary>An adapter written from scratch outside Herald.SocketIO, from its public surface only.</summary>
public sealed class ThirdPartyAdapterSpecification : AdapterSpecification
{
    protected override void ConfigureAdapter(IServiceCollection services)
        => services.Configure<SocketIOOptions>(o => o.AdapterFactory = static ns => new ThirdPartyAdapter(ns));
}

/// <summary>A wrapper around the default adapter, written outside Herald.SocketIO.</summary>
public sealed class DecoratingAdapterSpecification : AdapterSpecification
{
    protected override void ConfigureAdapter(IServiceCollection services)
        => services.Configure<SocketIOOptions>(o => o.AdapterFactory = static ns => new DecoratingAdapter(new InMemoryAdapter(ns)));
}
