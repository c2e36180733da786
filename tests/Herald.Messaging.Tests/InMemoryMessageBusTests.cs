using Herald.Testing;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

public sealed class InMemoryMessageBusTests : MessageBusSpecification
{
    protected override IMessageBus CreateBus(string nodeName, ILoggerFactory loggerFactory)
        => new InMemoryMessageBus(new HeraldNode(nodeName), loggerFactory.CreateLogger<InMemoryMessageBus>());

    [Fact]
    public async Task Publish_CompletesSynchronously_WhenHandlersDo()
    {
        await using var bus = new InMemoryMessageBus(new HeraldNode("n"));
        var collector = new MessageCollector();
        await using var _ = await bus.SubscribeAsync("c", collector.Handler).DefaultTimeout();

        var publication = bus.PublishAsync("c", new byte[] { 1 });

        Assert.True(publication.IsCompletedSuccessfully);
        Assert.Equal(1, collector.Count);
    }
}
