using System.Text;
using System.Text.Json.Serialization;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Tests;

public sealed record OrderCreated(int Id, string Customer, decimal Total);

[JsonSerializable(typeof(OrderCreated))]
public sealed partial class TestJsonContext : JsonSerializerContext;

public sealed class MessageChannelTests
{
    private readonly TestLogSink _logs = new();

    private (InMemoryMessageBus Bus, MessageChannel Channel) Create(Action<HeraldMessagingOptions>? configure = null)
    {
        var options = new HeraldMessagingOptions();
        configure?.Invoke(options);
        var factory = _logs.CreateFactory();
        var bus = new InMemoryMessageBus(new HeraldNode("rpc-server-1"), factory.CreateLogger<InMemoryMessageBus>());
        return (bus, new MessageChannel(bus, Options.Create(options), factory.CreateLogger<MessageChannel>()));
    }

    [Fact]
    public async Task PublishAndSubscribe_StringMessage_LikeTheSeed()
    {
        var (bus, channel) = Create();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = channel.Subscribe<string>("greeting", msg => received.TrySetResult(msg));
        await subscription.Ready.DefaultTimeout();

        await channel.PublishAsync("greeting", "Hello, World!").DefaultTimeout();

        Assert.Equal("Hello, World!", await received.Task.DefaultTimeout());
        Assert.Equal("rpc-server-1", channel.NodeName);
        await bus.DisposeAsync();
    }

    [Fact]
    public async Task TypedMessage_TravelsAsCamelCaseJson_OnTheTopicChannel()
    {
        var (bus, channel) = Create();
        var raw = new MessageCollector();
        await using var rawSubscription = await bus.SubscribeAsync("topic:orders.created", raw.Handler).DefaultTimeout();
        var received = new TaskCompletionSource<OrderCreated>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = channel.Subscribe<OrderCreated>("orders.created", async order =>
        {
            await Task.Yield();
            received.TrySetResult(order);
        });

        await channel.PublishAsync("orders.created", new OrderCreated(7, "ada", 12.5m)).DefaultTimeout();

        Assert.Equal(new OrderCreated(7, "ada", 12.5m), await received.Task.DefaultTimeout());
        Assert.Equal("{\"id\":7,\"customer\":\"ada\",\"total\":12.5}", Encoding.UTF8.GetString(Assert.Single(raw.Messages).Payload));
    }

    [Fact]
    public async Task SourceGeneratedContract_IsUsed()
    {
        var (_, channel) = Create(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, TestJsonContext.Default));
        var received = new TaskCompletionSource<OrderCreated>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = channel.Subscribe("orders", (OrderCreated o) => received.TrySetResult(o), TestJsonContext.Default.OrderCreated);

        await channel.PublishAsync("orders", new OrderCreated(1, "b", 2), TestJsonContext.Default.OrderCreated).DefaultTimeout();

        Assert.Equal(new OrderCreated(1, "b", 2), await received.Task.DefaultTimeout());
    }

    [Fact]
    public async Task PatternSubscription_GetsTheTopic()
    {
        var (_, channel) = Create();
        var received = new List<(string Topic, int Value)>();
        using var subscription = channel.SubscribePattern<int>("orders.*", (topic, value) => received.Add((topic, value)));
        using var async = channel.SubscribePattern<int>("users.*", (topic, value) => Task.CompletedTask);

        await channel.PublishAsync("orders.created", 1).DefaultTimeout();
        await channel.PublishAsync("users.created", 2).DefaultTimeout();
        await channel.PublishAsync("orders.paid", 3).DefaultTimeout();

        Assert.Equal([("orders.created", 1), ("orders.paid", 3)], received);
    }

    [Fact]
    public async Task Dispose_StopsDelivery()
    {
        var (_, channel) = Create();
        var count = 0;
        var subscription = channel.Subscribe<int>("t", _ => count++);
        await channel.PublishAsync("t", 1).DefaultTimeout();
        subscription.Dispose();
        await subscription.DisposeAsync().DefaultTimeout();
        await channel.PublishAsync("t", 2).DefaultTimeout();
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task UndeserializableMessage_IsLoggedAndDropped_NextOneArrives()
    {
        var (bus, channel) = Create();
        var received = new List<OrderCreated>();
        using var subscription = channel.Subscribe<OrderCreated>("orders", received.Add);

        await bus.PublishAsync("topic:orders", "{not json"u8.ToArray()).DefaultTimeout();
        await channel.PublishAsync("orders", new OrderCreated(2, "c", 1)).DefaultTimeout();

        Assert.Equal([new OrderCreated(2, "c", 1)], received);
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1001 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task OversizedMessage_IsRefused()
    {
        var (_, channel) = Create(o => o.MaxMessageSize = 10);
        await Assert.ThrowsAsync<MessageBusException>(async () => await channel.PublishAsync("t", new string('x', 20)).DefaultTimeout());
    }

    [Fact]
    public void TopicPrefixWithPatternCharacters_IsRejected()
        => Assert.Throws<ArgumentException>(() => Create(o => o.TopicChannelPrefix = "topic*"));

    [Fact]
    public async Task AddHeraldMessaging_RegistersNodeInMemoryBusAndChannel()
    {
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddHeraldMessaging(o => o.NodeName = "web-server-1")
            .AddHeraldMessaging()
            .BuildServiceProvider();

        Assert.Equal("web-server-1", provider.GetRequiredService<HeraldNode>().Name);
        Assert.IsType<InMemoryMessageBus>(provider.GetRequiredService<IMessageBus>());
        var channel = provider.GetRequiredService<IMessageChannel>();
        var received = 0;
        using var subscription = channel.Subscribe<int>("n", n => received = n);
        await channel.PublishAsync("n", 5).DefaultTimeout();
        Assert.Equal(5, received);
    }

    [Fact]
    public void DefaultNodeName_IsMachineNamePlusRandomSuffix()
    {
        var a = HeraldNode.CreateDefaultName();
        var b = HeraldNode.CreateDefaultName();
        Assert.NotEqual(a, b);
        Assert.True(HeraldNode.IsValidName(a));
        Assert.Matches("-[0-9a-f]{6}$", a);
        Assert.Throws<ArgumentException>(() => new HeraldNode("has space"));
        Assert.Throws<ArgumentException>(() => new HeraldNode(""));
    }
}
