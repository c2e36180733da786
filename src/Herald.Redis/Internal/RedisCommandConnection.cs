using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;

namespace Herald.Redis.Internal;

/// <summary>
/// The multiplexed command connection: any number of callers, one socket, commands pipelined and
/// replies matched in order. At most <see cref="RedisConnectionOptions.MaxPendingCommands"/> commands are
/// queued or awaiting a reply; further callers wait for a slot (up to the command timeout).
/// </summary>
internal sealed class RedisCommandConnection : RedisConnection
{
    private readonly SemaphoreSlim _slots;

    public RedisCommandConnection(RedisConnectionOptions options, ILogger logger)
        : base(options, "cmd", logger)
    {
        _slots = new SemaphoreSlim(options.MaxPendingCommands, options.MaxPendingCommands);
    }

    /// <summary>
    /// Sends a command and returns its reply. Waits for a connection when there is none (up to the
    /// command timeout). Once queued the command is not cancelled: its arguments' memory must stay valid
    /// until the returned task completes. An error reply throws <see cref="RedisServerException"/>.
    /// </summary>
    public async ValueTask<RedisResult> ExecuteAsync(RedisArgument[] arguments, CancellationToken cancellationToken = default)
    {
        await WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
        if (!_slots.Wait(0) && !await _slots.WaitAsync(Options.CommandTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new RedisConnectionException($"{Options.MaxPendingCommands} Redis commands are already pending (MaxPendingCommands).");
        }

        try
        {
            var completion = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!Enqueue(new OutgoingCommand(arguments, completion)))
            {
                throw new ObjectDisposedException(nameof(RedisCommandConnection));
            }

            var result = await completion.Task.ConfigureAwait(false);
            if (result.Type == RespType.Error)
            {
                throw new RedisServerException(result.AsString() ?? "ERR");
            }

            return result;
        }
        finally
        {
            _slots.Release();
        }
    }

    protected override ValueTask OnReplyAsync(RespValue value)
    {
        if (value.Type == RespType.Push)
        {
            return ValueTask.CompletedTask; // RESP3 out-of-band data (client tracking...), not a reply
        }

        if (!TryTakeInflight(out var completion))
        {
            throw new RespProtocolException("a reply arrived with no command waiting for it");
        }

        completion!.TrySetResult(RedisResult.From(value));
        return ValueTask.CompletedTask;
    }
}
