using System.Net;
using System.Text;
using Herald.Messaging;
using Herald.Messaging.Emitters;
using Herald.Sse.Cluster;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static Herald.Sse.Tests.SseEndpointTests;

namespace Herald.Sse.Tests;

/// <summary>Pushes through the message bus (<see cref="SseEmitter"/> → bus → <see cref="SseBusConsumer"/> → clients).</summary>
public class SseBusTests
{
    [Fact]
    public async Task TheEmitterReachesLocalClientsThroughTheInMemoryBus()
    {
        await using var host = await SseTestHost.StartAsync(services: s => s.AddHeraldMessaging(o => o.NodeName = "web-server-1"));
        var sse = host.Services.GetRequiredService<SseEmitter>();
        var (a, aId) = await host.ConnectOpenAsync("?topic=news");
        var (b, _) = await host.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        await sse.SendAsync("Hello, World!").DefaultTimeout();
        await sse.Via("web-server-1").EmitAsync("greeting", new { Text = "hi" }).DefaultTimeout();
        await sse.Via("web-server-1").To(aId).EmitAsync("greeting", "only a").DefaultTimeout();
        await sse.To("news").SendAsync(42).DefaultTimeout();
        await sse.Via("web-server-2").SendAsync("another node's").DefaultTimeout();
        await sse.EmitAsync("end").DefaultTimeout();

        Assert.Equal(("message", "Hello, World!"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("greeting", "{\"text\":\"hi\"}"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("greeting", "only a"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("message", "42"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("end", ""), Tuple(await a.ReadEventAsync().DefaultTimeout()));

        Assert.Equal(("message", "Hello, World!"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("greeting", "{\"text\":\"hi\"}"), Tuple(await b.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("end", ""), Tuple(await b.ReadEventAsync().DefaultTimeout()));
    }

    [Fact]
    public async Task CloseThroughTheBusIsFinal()
    {
        await using var host = await SseTestHost.StartAsync(services: s => s.AddHeraldMessaging(o => o.NodeName = "web-server-1"));
        var sse = host.Services.GetRequiredService<SseEmitter>();
        var (a, aId) = await host.ConnectOpenAsync();
        await using var a_ = a;

        await sse.Via("web-server-1").To(aId).CloseAsync().DefaultTimeout();

        Assert.Empty(await a.ReadToEndAsync().DefaultTimeout());
        await using var again = await host.ConnectAsync(lastEventId: a.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task AWorkerProcessReachesOneNodeOrAllNodesThroughASharedBus()
    {
        // Three "processes" on one in-memory bus, each with its own node name: two web servers and a worker.
        await using var shared = new InMemoryMessageBus(new HeraldNode("shared"), NullLogger<InMemoryMessageBus>.Instance);
        await using var web1 = await SseTestHost.StartAsync(services: s => s.AddSingleton<IMessageBus>(new NodeBusView(shared, "web-server-1")));
        await using var web2 = await SseTestHost.StartAsync(services: s => s.AddSingleton<IMessageBus>(new NodeBusView(shared, "web-server-2")));
        var worker = new SseEmitter(new NodeBusView(shared, "rpc-server-1"));
        var (a, aId) = await web1.ConnectOpenAsync();
        var (b, bId) = await web2.ConnectOpenAsync();
        await using var a_ = a;
        await using var b_ = b;

        await worker.Via("web-server-2").SendAsync("to web 2").DefaultTimeout();
        await worker.Via("web-server-1").To(aId).EmitAsync("greeting", "to a on web 1").DefaultTimeout();
        await worker.Via("web-server-2").To(aId).EmitAsync("greeting", "a is not on web 2").DefaultTimeout();
        await worker.SendAsync("everyone").DefaultTimeout();

        Assert.Equal(["to a on web 1", "everyone"], await ReadData(a, 2));
        Assert.Equal(["to web 2", "everyone"], await ReadData(b, 2));

        // The worker closes b for good: b's stream ends and its reconnect gets 204; a is untouched.
        await worker.Via("web-server-1").To(bId).CloseAsync().DefaultTimeout(); // b is not on web 1: nothing
        await worker.Via("web-server-2").To(bId).CloseAsync().DefaultTimeout();
        Assert.Empty(await b.ReadToEndAsync().DefaultTimeout());
        await using var again = await web2.ConnectAsync(lastEventId: b.LastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        await worker.Via("web-server-1").To(aId).SendAsync("a still here").DefaultTimeout();
        Assert.Equal(["a still here"], await ReadData(a, 1));
    }

    [Fact]
    public async Task ForeignPublishersUseTheDocumentedJsonAndBadEnvelopesAreDropped()
    {
        await using var host = await SseTestHost.StartAsync(services: s => s.AddHeraldMessaging(o => o.NodeName = "web-server-1"));
        var bus = host.Services.GetRequiredService<IMessageBus>();
        var (a, _) = await host.ConnectOpenAsync("?topic=prices");
        await using var a_ = a;

        await bus.PublishAsync("sse", "not json"u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("sse", """{"source":"cron","kind":"sse-send","packet":{"event":"bad\nname","data":"x"}}"""u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("sse", """{"source":"cron","kind":"sse-send","packet":[1]}"""u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("sse:web-server-1", """{"source":"cron","target":"web-server-1","kind":"sse-send","rooms":["prices"],"packet":{"event":"tick","data":{"eur":1.08},"id":"ignored"}}"""u8.ToArray()).DefaultTimeout();
        await bus.PublishAsync("sse", """{"source":"cron","kind":"sse-send","packet":{"data":"line 1\nline 2"}}"""u8.ToArray()).DefaultTimeout();

        Assert.Equal(("tick", "{\"eur\":1.08}"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(("message", "line 1\nline 2"), Tuple(await a.ReadEventAsync().DefaultTimeout()));
        Assert.Equal(3, host.Logs.Entries.Count(e => e.EventId.Name == "BadEnvelope"));
    }

    /// <summary>One process's view of a shared in-memory bus: its own node name, the shared channels.</summary>
    private sealed class NodeBusView(IMessageBus inner, string nodeName) : IMessageBus
    {
        public string NodeName => nodeName;

        public MessageBusState State => inner.State;

        public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged
        {
            add => inner.StateChanged += value;
            remove => inner.StateChanged -= value;
        }

        public ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
            => inner.PublishAsync(channel, payload, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, BusMessageHandler handler, CancellationToken cancellationToken = default)
            => inner.SubscribeAsync(channel, handler, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribePatternAsync(string pattern, BusMessageHandler handler, CancellationToken cancellationToken = default)
            => inner.SubscribePatternAsync(pattern, handler, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
