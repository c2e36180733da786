using System.Diagnostics;
using Herald.Messaging.Emitters;
using Herald.Protocol.Cluster;
using Herald.SocketIO;
using Herald.Testing;

namespace Herald.Cluster.Tests;

public abstract partial class ClusterAdapterSpecification
{
    /// <summary>Node i (1-based) answers "ping" with its name and the argument plus i, unless it is listed in <paramref name="silent"/>.</summary>
    private Task<ClusterNode[]> StartAnsweringNodesAsync(int count, ConcurrentCounter calls, params int[] silent)
    {
        var index = 0;
        return StartNodesAsync(count, io =>
        {
            var i = ++index;
            io.OnServerSideEmit("ping", (args, ack) =>
            {
                calls.Add(i);
                if (!silent.Contains(i))
                {
                    ack(NodeName(i), args[0].GetInt32() + i, new byte[] { (byte)i });
                    ack("a second answer is never sent");
                }
            });
        });
    }

    [Fact]
    public async Task ServerSideEmitWithAckCollectsOneAnswerFromEveryOtherNode()
    {
        var calls = new ConcurrentCounter();
        var nodes = await StartAnsweringNodesAsync(3, calls);
        try
        {
            var answers = await nodes[0].Io.ServerSideEmitWithAckAsync("ping", 10).DefaultTimeout();

            Assert.Equal([NodeName(2), NodeName(3)], answers.Select(a => a.Node).Order());
            foreach (var answer in answers)
            {
                var i = answer.Node == NodeName(2) ? 2 : 3;
                Assert.Equal(answer.Node, answer.Get<string>(0));
                Assert.Equal(10 + i, answer.Get<int>(1));
                Assert.Equal(new[] { (byte)i }, answer.Get<byte[]>(2));
            }

            Assert.Equal([2, 3], calls.Snapshot.Order());

        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task ServerSideEmitWithAckTimesOutWithThePartialAnswers()
    {
        var calls = new ConcurrentCounter();
        var nodes = await StartAnsweringNodesAsync(3, calls, silent: 3);
        try
        {
            var request = nodes[0].Io.Timeout(TimeSpan.FromSeconds(3)).ServerSideEmitWithAckAsync("ping", 1);
            var timeout = await Assert.ThrowsAsync<ServerSideEmitTimeoutException>(() => request.WaitAsync(TimeSpan.FromSeconds(10)));

            var answer = Assert.Single(timeout.Responses);
            Assert.Equal((NodeName(2), 3), (answer.Node, answer.Get<int>(1)));
            Assert.Equal(2, timeout.Expected);
            Assert.Contains(3, calls.Snapshot); // node 3 got it, it just did not answer
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task ANodeThatStopsHeartbeatingDoesNotStallServerSideEmitWithAck()
    {
        var calls = new ConcurrentCounter();
        var nodes = await StartAnsweringNodesAsync(2, calls);
        try
        {
            // A ghost node says it is alive once, then goes silent: it never answers.
            var ghost = new ClusterEnvelope { Source = "ghost-" + NodeName(9), Kind = ClusterEnvelopeKinds.Heartbeat, Namespace = "/" };
            await nodes[1].Bus.PublishAsync(SocketIOChannels.ForNamespace("sio", "/"), ClusterEnvelopeCodec.Encode(ghost)).DefaultTimeout();
            await nodes[0].WaitForNodesAsync(2);

            var watch = Stopwatch.StartNew();
            var answers = await nodes[0].Io.Timeout(TimeSpan.FromSeconds(8)).ServerSideEmitWithAckAsync("ping", 1).WaitAsync(TimeSpan.FromSeconds(15));
            watch.Stop();

            Assert.Equal(NodeName(2), Assert.Single(answers).Node);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"waited {watch.Elapsed} (timeout 8 s, heartbeat timeout 2 s)");
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    /// <summary>A thread-safe list of ints (which nodes' handlers ran).</summary>
    protected sealed class ConcurrentCounter
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<int> _items = new();

        public int[] Snapshot => [.. _items];

        public void Add(int i) => _items.Enqueue(i);
    }
}
