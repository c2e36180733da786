using System.Buffers;
using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;

namespace Herald.Redis.Internal;

/// <summary>What the subscriber connection serves: the names to (re)subscribe, and where messages go.</summary>
internal interface IRedisMessageSink
{
    /// <summary>Every channel and pattern (Redis names) that must be subscribed now.</summary>
    (string[] Channels, string[] Patterns) GetSubscriptions();

    /// <summary>One <c>message</c> (pattern empty) or <c>pmessage</c> push; the bytes are valid until the task completes.</summary>
    ValueTask OnMessageAsync(ReadOnlySequence<byte> channel, ReadOnlySequence<byte> pattern, bool isPattern, ReadOnlySequence<byte> payload);
}

/// <summary>
/// The dedicated pub/sub connection. In subscribe mode Redis only answers SUBSCRIBE-family commands and
/// PING, with pushes: <c>["subscribe", name, count]</c>, <c>["message", channel, payload]</c>,
/// <c>["pmessage", pattern, channel, payload]</c>, <c>["pong", ""]</c> (RESP2 arrays; RESP3 <c>&gt;</c> pushes).
/// Because Redis answers in order, a PING after SUBSCRIBE commands is a barrier: its pong proves every
/// earlier subscription is in place. After a reconnection every subscription is restored before the
/// connection reports itself connected.
/// </summary>
internal sealed class RedisSubscriberConnection(RedisConnectionOptions options, ILogger logger, IRedisMessageSink sink)
    : RedisConnection(options, "sub", logger)
{
    private const int NamesPerCommand = 1000;

    /// <summary>Queues SUBSCRIBE or PSUBSCRIBE; call <see cref="WhenSubscribedAsync"/> to wait for it to take effect.</summary>
    public void Subscribe(string name, bool isPattern) => Enqueue(new OutgoingCommand([isPattern ? "PSUBSCRIBE" : "SUBSCRIBE", name], null));

    /// <summary>Queues UNSUBSCRIBE or PUNSUBSCRIBE; nothing waits for it.</summary>
    public void Unsubscribe(string name, bool isPattern) => Enqueue(new OutgoingCommand([isPattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", name], null));

    /// <summary>
    /// Completes once every subscription queued before the call is in place: sends a PING barrier and
    /// waits for its pong. When the connection drops meanwhile, waits for the reconnection, which
    /// restores every subscription itself.
    /// </summary>
    public async ValueTask WhenSubscribedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            var pong = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!Enqueue(new OutgoingCommand(["PING"], pong)))
            {
                throw new ObjectDisposedException(nameof(RedisSubscriberConnection));
            }

            try
            {
                await pong.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException) when (!ShutdownToken.IsCancellationRequested)
            {
                // lost before the pong: the next session resubscribes everything, wait for it
            }
        }
    }

    protected override async Task OnSessionStartedAsync(Task sessionEnded, CancellationToken cancellationToken)
    {
        var (channels, patterns) = sink.GetSubscriptions();
        QueueInChunks("SUBSCRIBE", channels);
        QueueInChunks("PSUBSCRIBE", patterns);
        var pong = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new OutgoingCommand(["PING"], pong));
        await Task.WhenAny(pong.Task, sessionEnded).ConfigureAwait(false);
        await pong.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (channels.Length + patterns.Length > 0)
        {
            RedisLog.Resubscribed(Logger, channels.Length, patterns.Length);
        }
    }

    private void QueueInChunks(string command, string[] names)
    {
        for (var start = 0; start < names.Length; start += NamesPerCommand)
        {
            var count = Math.Min(NamesPerCommand, names.Length - start);
            var arguments = new RedisArgument[count + 1];
            arguments[0] = command;
            for (var i = 0; i < count; i++)
            {
                arguments[i + 1] = names[start + i];
            }

            Enqueue(new OutgoingCommand(arguments, null));
        }
    }

    protected override ValueTask OnReplyAsync(RespValue value)
    {
        if (value.IsAggregate && value.Items is { Length: >= 2 } items)
        {
            var kind = items[0];
            if (kind.TextEqualsIgnoreCase("message"u8) && items.Length == 3)
            {
                return sink.OnMessageAsync(items[1].Bytes, default, isPattern: false, items[2].Bytes);
            }

            if (kind.TextEqualsIgnoreCase("pmessage"u8) && items.Length == 4)
            {
                return sink.OnMessageAsync(items[2].Bytes, items[1].Bytes, isPattern: true, items[3].Bytes);
            }

            if (kind.TextEqualsIgnoreCase("pong"u8))
            {
                CompleteBarrier(value);
            }

            // subscribe / psubscribe / unsubscribe / punsubscribe confirmations: the PING barrier covers them
            return ValueTask.CompletedTask;
        }

        if (value.Type == RespType.SimpleString && value.TextEqualsIgnoreCase("PONG"u8))
        {
            CompleteBarrier(value); // PING while subscribed to nothing gets a plain reply
        }
        else if (value.Type == RespType.Error)
        {
            RedisLog.SubscriberError(Logger, value.GetString());
        }

        return ValueTask.CompletedTask;
    }

    private void CompleteBarrier(RespValue value)
    {
        if (!TryTakeInflight(out var completion))
        {
            throw new RespProtocolException("a pong arrived with no PING waiting for it");
        }

        completion!.TrySetResult(RedisResult.From(value));
    }
}
