using Herald.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.SocketIO.Cluster;

/// <summary>
/// Creates the <see cref="ClusterAdapter"/> of every namespace (it is the <see cref="SocketIOOptions.AdapterFactory"/>
/// installed by <c>AddClusterAdapter</c>) and makes them leave the cluster when the host stops, so the other nodes
/// drop this one at once (<c>node-close</c>) instead of waiting for its heartbeats to stop.
/// </summary>
internal sealed class ClusterAdapterLifetime(IMessageBus bus, IOptions<ClusterAdapterOptions> options, ILoggerFactory? loggerFactory = null) : IHostedService
{
    private readonly Lock _lock = new();
    private readonly List<ClusterAdapter> _adapters = [];

    public IAdapter Create(Namespace ns)
    {
        var adapter = new ClusterAdapter(ns, bus, options.Value, loggerFactory);
        lock (_lock)
        {
            _adapters.Add(adapter);
        }

        return adapter;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        ClusterAdapter[] adapters;
        lock (_lock)
        {
            adapters = [.. _adapters];
            _adapters.Clear();
        }

        foreach (var adapter in adapters)
        {
            await adapter.CloseAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
