using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Threading.Channels;

namespace Herald.Sse.Internal;

/// <summary>A frame waiting in a connection's queue: a shared event body (with its sequence, written after a per-client id line) or raw bytes.</summary>
internal readonly record struct SseQueuedFrame(byte[] Body, long Seq, bool HasId);

/// <summary>
/// One open event stream: a bounded queue drained by a single writer loop that coalesces everything queued into one
/// flush. Producers (broadcasts, under the server lock) never wait: a full queue disconnects this client only.
/// </summary>
internal sealed class SseConnection
{
    private readonly Channel<SseQueuedFrame> _queue = Channel.CreateUnbounded<SseQueuedFrame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly PipeWriter _output;
    private readonly byte[] _idPrefix;
    private readonly byte[] _idSuffix;
    private readonly long _maxBytes;
    private readonly int _maxMessages;
    private readonly CancellationTokenSource _abort;
    private long _queuedBytes;
    private long _queuedMessages;
    private int _reason = -1;

    public SseConnection(SseClient client, PipeWriter output, byte[] idPrefix, long maxBytes, int maxMessages, CancellationToken requestAborted)
    {
        Client = client;
        _output = output;
        _idPrefix = idPrefix;
        _idSuffix = Encoding.UTF8.GetBytes("." + client.Token + "\n");
        _maxBytes = maxBytes;
        _maxMessages = maxMessages;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
    }

    public SseClient Client { get; }

    /// <summary>Why the connection ended, once it did.</summary>
    public SseDisconnectReason Reason => _reason < 0 ? SseDisconnectReason.ClientDisconnected : (SseDisconnectReason)_reason;

    public bool IsEnded => Volatile.Read(ref _reason) >= 0;

    /// <summary>Queues a frame. Returns false when the connection ended or has just overflowed (then <see cref="Reason"/> is <see cref="SseDisconnectReason.SlowClient"/>).</summary>
    public bool TryEnqueue(SseQueuedFrame frame, out bool overflowed)
    {
        overflowed = false;
        if (IsEnded)
        {
            return false;
        }

        var bytes = Interlocked.Add(ref _queuedBytes, frame.Body.Length);
        var count = Interlocked.Increment(ref _queuedMessages);
        if (bytes > _maxBytes || count > _maxMessages)
        {
            overflowed = Terminate(SseDisconnectReason.SlowClient);
            return false;
        }

        return _queue.Writer.TryWrite(frame);
    }

    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    public long QueuedMessages => Volatile.Read(ref _queuedMessages);

    /// <summary>Ends the stream after what is already queued has been written (server <c>Close()</c>, shutdown).</summary>
    public bool Complete(SseDisconnectReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) != -1)
        {
            return false;
        }

        _queue.Writer.TryComplete();
        return true;
    }

    /// <summary>Ends the stream now, dropping what is queued and cancelling a pending flush (overflow, replaced).</summary>
    public bool Terminate(SseDisconnectReason reason)
    {
        if (!Complete(reason))
        {
            return false;
        }

        // Cancelling may run the writer loop's continuation inline; callers hold the server lock and may be
        // iterating the connection set, so the cancellation happens on the thread pool.
        ThreadPool.UnsafeQueueUserWorkItem(static cts => Cancel(cts), _abort, preferLocal: false);
        return true;
    }

    private static void Cancel(CancellationTokenSource cts)
    {
        try
        {
            cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The loop already ended.
        }
    }

    /// <summary>The writer loop: wait for frames, write all that are queued, flush once. Returns when the stream ends.</summary>
    public async Task<SseDisconnectReason> RunAsync()
    {
        var token = _abort.Token;
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                var wrote = false;
                while (reader.TryRead(out var frame))
                {
                    Write(frame);
                    Interlocked.Add(ref _queuedBytes, -frame.Body.Length);
                    Interlocked.Decrement(ref _queuedMessages);
                    wrote = true;
                }

                if (wrote)
                {
                    var result = await _output.FlushAsync(token);
                    if (result.IsCanceled || result.IsCompleted)
                    {
                        break;
                    }
                }

                if (!await reader.WaitToReadAsync(token))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The peer reset the connection mid-write.
        }
        finally
        {
            // Whatever ended the loop, nothing more may be queued.
            Complete(SseDisconnectReason.ClientDisconnected);
            _abort.Dispose();
        }

        return Reason;
    }

    private void Write(in SseQueuedFrame frame)
    {
        if (frame.HasId)
        {
            var span = _output.GetSpan(_idPrefix.Length + 20 + _idSuffix.Length);
            _output.Advance(SseEventId.Write(span, _idPrefix, frame.Seq, _idSuffix));
        }

        _output.Write(frame.Body);
    }
}
