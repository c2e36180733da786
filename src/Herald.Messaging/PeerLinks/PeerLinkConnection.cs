using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// One live WebSocket of a <see cref="PeerLink"/>: its send queue and the subscriptions waiting for the
/// node's confirmation. A new one is made for every reconnection, so nothing of a dead socket leaks into the next.
/// </summary>
internal sealed class PeerLinkConnection(WebSocket socket, int maxQueuedFrames, long maxQueuedBytes = long.MaxValue)
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private long _nextId;
    private volatile bool _closed;

    public WebSocket Socket { get; } = socket;

    public PeerFrameSender Sender { get; } = new(maxQueuedFrames, maxQueuedBytes);

    public Task Sending { get; private set; } = Task.CompletedTask;

    public void StartSending(CancellationToken cancellationToken) => Sending = Sender.RunAsync(Socket, cancellationToken);

    /// <summary>Queues a SUBSCRIBE; the task completes when the node confirms (or refuses, or the connection ends).</summary>
    public Task Subscribe(string name, bool isPattern)
    {
        var id = Interlocked.Increment(ref _nextId);
        var confirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = confirmed;
        if (_closed || !Send(PeerLinkProtocol.Subscribe(id, name, isPattern)))
        {
            _pending.TryRemove(id, out _);
            confirmed.TrySetResult(); // restored on the next connection
        }

        return confirmed.Task;
    }

    public void Unsubscribe(string name, bool isPattern) => Send(PeerLinkProtocol.Unsubscribe(name, isPattern));

    public void Confirm(long id)
    {
        if (_pending.TryRemove(id, out var confirmed))
        {
            confirmed.TrySetResult();
        }
    }

    private bool Send(byte[] control)
    {
        var frame = PeerFrame.Text(control);
        var queued = Sender.TryEnqueue(frame);
        frame.Release();
        return queued;
    }

    /// <summary>Ends the connection's bookkeeping: nothing more is queued and every waiting subscription is released.</summary>
    public void Close()
    {
        _closed = true;
        Sender.Complete();
        foreach (var id in _pending.Keys)
        {
            Confirm(id);
        }
    }

    /// <summary>Flushes what is queued and sends a close frame, within <paramref name="timeout"/>.</summary>
    public async Task CloseGracefullyAsync(TimeSpan timeout)
    {
        _closed = true;
        Sender.CompleteAdding();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Sending.WaitAsync(cts.Token).ConfigureAwait(false);
            if (Socket.State == WebSocketState.Open)
            {
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
