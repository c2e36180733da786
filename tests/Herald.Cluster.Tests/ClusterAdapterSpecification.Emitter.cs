using System.Diagnostics;
using Herald.Messaging.Emitters;
using Herald.Testing;

namespace Herald.Cluster.Tests;

public abstract partial class ClusterAdapterSpecification
{
    [Fact]
    public async Task AFreshEmittersFirstAckBroadcastWithoutViaCompletesWhenEveryNodeAnswered()
    {
        var nodes = await StartNodesAsync(2);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var workerBus = await CreateWorkerBusAsync("rpc-" + NodeName(0));
        var ws = new SocketIOEmitter(workerBus);
        try
        {
            var watch = Stopwatch.StartNew();
            var acks = ws.To("news").Timeout(TimeSpan.FromSeconds(8)).EmitWithAckAsync("question");
            await a.AckAsync(await a.ExpectEventAsync("question"), "[\"a\"]");
            await b.AckAsync(await b.ExpectEventAsync("question"), "[\"b\"]");
            var answers = await acks.WaitAsync(TimeSpan.FromSeconds(15));
            watch.Stop();

            Assert.Equal(new[] { a.Id, b.Id }.Order(), answers.Select(r => r.SocketId).Order());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"the first call took {watch.Elapsed} (timeout 8 s)");
        }
        finally
        {
            await ws.DisposeAsync();
            await workerBus.DisposeAsync();
            await DisposeAllAsync(a, b);
            await DisposeAllAsync(nodes);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFreshEmittersFirstAckBroadcastCountsEveryNodeEvenWhenOneHasNoTarget(bool emitterOnANode)
    {
        var nodes = await StartNodesAsync(3);
        var a = await nodes[0].ConnectAsync(null, "news");
        var b = await nodes[1].ConnectAsync(null, "news");
        var c = await nodes[2].ConnectAsync();
        var workerBus = emitterOnANode ? null : await CreateWorkerBusAsync("rpc-" + NodeName(0));
        var ws = workerBus is null ? new SocketIOEmitter(nodes[2].Bus) : new SocketIOEmitter(workerBus);
        try
        {
            var watch = Stopwatch.StartNew();
            var acks = ws.To("news").Timeout(TimeSpan.FromSeconds(8)).EmitWithAckAsync("question");
            await a.AckAsync(await a.ExpectEventAsync("question"), "[\"a\"]");
            await b.AckAsync(await b.ExpectEventAsync("question"), "[\"b\"]");
            var answers = await acks.WaitAsync(TimeSpan.FromSeconds(15));
            watch.Stop();

            Assert.Equal(new[] { a.Id, b.Id }.Order(), answers.Select(r => r.SocketId).Order());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"the first call took {watch.Elapsed} (timeout 8 s)");
        }
        finally
        {
            await ws.DisposeAsync();
            if (workerBus is not null)
            {
                await workerBus.DisposeAsync();
            }

            await DisposeAllAsync(a, b, c);
            await DisposeAllAsync(nodes);
        }
    }
}
