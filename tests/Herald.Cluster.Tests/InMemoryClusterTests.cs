using Herald.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Cluster.Tests;

/// <summary>The cluster specification with every node on one in-memory bus (each with its own node name).</summary>
public sealed class InMemoryClusterTests : ClusterAdapterSpecification, IAsyncDisposable
{
    private readonly InMemoryMessageBus _shared = new(new HeraldNode("shared"), NullLogger<InMemoryMessageBus>.Instance);

    protected override void ConfigureBus(IServiceCollection services, string node)
        => services.AddSingleton<IMessageBus>(new NodeBusView(_shared, node));

    protected override Task<IMessageBus> CreateWorkerBusAsync(string node) => Task.FromResult<IMessageBus>(new NodeBusView(_shared, node));

    public ValueTask DisposeAsync() => _shared.DisposeAsync();
}
