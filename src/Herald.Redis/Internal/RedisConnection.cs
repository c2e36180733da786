using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;

namespace Herald.Redis.Internal;

/// <summary>The state of one logical Redis connection.</summary>
internal enum RedisConnectionState
{
    Connecting,
    Connected,
    Disconnected,
    Disposed,
}

/// <summary>A command waiting to be written, with the completion of its reply when it expects one.</summary>
internal sealed class OutgoingCommand(RedisArgument[] arguments, TaskCompletionSource<RedisResult>? completion)
{
    public RedisArgument[] Arguments { get; } = arguments;

    public TaskCompletionSource<RedisResult>? Completion { get; } = completion;
}

/// <summary>
/// A logical connection that outlives its TCP connections: it connects, runs one session (a writer loop
/// and a reader loop over one <see cref="RedisPhysicalConnection"/>) until the connection breaks, fails
/// what was in flight, waits with exponential backoff and jitter, and connects again, until disposed.
/// Writes are pipelined: the writer loop drains the outgoing queue into the pipe and flushes once when
/// the queue is empty, so concurrent callers share network writes. Replies are matched in FIFO order
/// with the commands that expect one.
/// </summary>
internal abstract class RedisConnection : IAsyncDisposable
{
    private readonly Channel<OutgoingCommand> _outgoing = Channel.CreateUnbounded<OutgoingCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<TaskCompletionSource<RedisResult>> _inflight = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _stateLock = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RedisConnectionState _state = RedisConnectionState.Connecting;
    private Task _loop = Task.CompletedTask;

    protected RedisConnection(RedisConnectionOptions options, string role, ILogger logger)
    {
        Options = options;
        Role = role;
        Logger = logger;
        Limits = new RespLimits { MaxBulkLength = options.MaxBulkLength };
    }

    protected RedisConnectionOptions Options { get; }

    protected string Role { get; }

    protected ILogger Logger { get; }

    protected RespLimits Limits { get; }

    public RedisConnectionState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Raised (outside any lock) when <see cref="State"/> changes.</summary>
    public event Action<RedisConnectionState, Exception?>? StateChanged;

    protected CancellationToken ShutdownToken => _shutdown.Token;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Completes when connected; waits up to <see cref="RedisConnectionOptions.CommandTimeout"/>.</summary>
    protected ValueTask WaitConnectedAsync(CancellationToken cancellationToken)
    {
        Task connected;
        lock (_stateLock)
        {
            if (_state == RedisConnectionState.Connected)
            {
                return ValueTask.CompletedTask;
            }

            if (_state == RedisConnectionState.Disposed)
            {
                return ValueTask.FromException(new ObjectDisposedException(GetType().Name));
            }

            connected = _connected.Task;
        }

        return WaitSlowAsync(connected, cancellationToken);

        async ValueTask WaitSlowAsync(Task connected, CancellationToken cancellationToken)
        {
            try
            {
                await connected.WaitAsync(Options.CommandTimeout, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                throw new RedisConnectionException($"No connection to Redis at {Options} within {Options.CommandTimeout}.", e);
            }
        }
    }

    /// <summary>Queues a command; never blocks. False when disposed.</summary>
    protected bool Enqueue(OutgoingCommand command) => _outgoing.Writer.TryWrite(command);

    private async Task RunAsync()
    {
        var attempt = 0;
        while (!_shutdown.IsCancellationRequested)
        {
            Exception? error = null;
            RedisPhysicalConnection? connection = null;
            try
            {
                RedisLog.Connecting(Logger, Role, Options.ToString());
                connection = await RedisPhysicalConnection.ConnectAsync(Options, Role, Limits, _shutdown.Token).ConfigureAwait(false);
                attempt = 0;
                await RunSessionAsync(connection).ConfigureAwait(false);
            }
            catch (Exception e) when (!_shutdown.IsCancellationRequested)
            {
                error = e;
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            FailPending(error);
            if (_shutdown.IsCancellationRequested)
            {
                break;
            }

            var delay = Backoff(attempt++);
            RedisLog.ConnectionFailed(Logger, Role, Options.ToString(), (long)delay.TotalMilliseconds, error);
            SetState(RedisConnectionState.Disconnected, error);
            try
            {
                await Task.Delay(delay, Options.TimeProvider, _shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var min = Options.ReconnectMinDelay.TotalMilliseconds;
        var max = Options.ReconnectMaxDelay.TotalMilliseconds;
        var delay = Math.Min(max, min * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(delay * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private async Task RunSessionAsync(RedisPhysicalConnection connection)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var reading = ReadLoopAsync(connection.Input, session.Token);
        var writing = WriteLoopAsync(connection.Output, session.Token);
        var started = OnSessionStartedAsync(Task.WhenAny(reading, writing), session.Token);
        try
        {
            var first = await Task.WhenAny(reading, writing, started).ConfigureAwait(false);
            if (first == started)
            {
                await started.ConfigureAwait(false);
                RedisLog.Connected(Logger, Role, Options.ToString());
                SetState(RedisConnectionState.Connected, null);
                first = await Task.WhenAny(reading, writing).ConfigureAwait(false);
            }

            await first.ConfigureAwait(false);
            throw new RedisConnectionException("The Redis connection ended.");
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            connection.Abort();
            await Task.WhenAll(reading, writing, started).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs once the loops of a new session run, before the connection is reported connected (the
    /// subscriber restores its subscriptions here). <paramref name="sessionEnded"/> completes if the
    /// session breaks meanwhile.
    /// </summary>
    protected virtual Task OnSessionStartedAsync(Task sessionEnded, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Handles one reply; the value's bytes are valid until the returned task completes.</summary>
    protected abstract ValueTask OnReplyAsync(RespValue value);

    /// <summary>The completion of the oldest command awaiting a reply.</summary>
    protected bool TryTakeInflight(out TaskCompletionSource<RedisResult>? completion) => _inflight.TryDequeue(out completion);

    private async Task WriteLoopAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var reader = _outgoing.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var command))
            {
                if (command.Completion is { } completion)
                {
                    // Queued before the bytes go out, so the reply always finds it.
                    _inflight.Enqueue(completion);
                }

                RespWriter.WriteCommand(output, command.Arguments);
            }

            var flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
    }

    private async Task ReadLoopAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            var consumed = buffer.Start;
            try
            {
                while (RespReader.TryParse(ref buffer, out var value, Limits))
                {
                    var handled = OnReplyAsync(value);
                    if (!handled.IsCompletedSuccessfully)
                    {
                        await handled.ConfigureAwait(false);
                    }

                    consumed = buffer.Start;
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    throw new RedisConnectionException(buffer.IsEmpty ? "Redis closed the connection." : "Redis closed the connection in the middle of a reply.");
                }
            }
            finally
            {
                input.AdvanceTo(consumed, buffer.End);
            }
        }
    }

    private void FailPending(Exception? error)
    {
        var failure = new RedisConnectionException("The connection to Redis was lost before the reply.", error ?? new OperationCanceledException());
        while (_inflight.TryDequeue(out var completion))
        {
            completion.TrySetException(failure);
        }

        // What was not written yet fails too, rather than going out on the next connection long after its
        // caller was told about the outage (a command queued while this runs may still go out later).
        while (_outgoing.Reader.TryRead(out var command))
        {
            command.Completion?.TrySetException(failure);
        }
    }

    private void SetState(RedisConnectionState state, Exception? error)
    {
        lock (_stateLock)
        {
            if (_state == state || _state == RedisConnectionState.Disposed)
            {
                return;
            }

            _state = state;
            if (state == RedisConnectionState.Connected)
            {
                _connected.TrySetResult();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        StateChanged?.Invoke(state, error);
    }

    public virtual async ValueTask DisposeAsync()
    {
        lock (_stateLock)
        {
            if (_state == RedisConnectionState.Disposed)
            {
                return;
            }
        }

        _outgoing.Writer.TryComplete();
        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        FailPending(new ObjectDisposedException(GetType().Name));
        Task connected;
        lock (_stateLock)
        {
            _state = RedisConnectionState.Disposed;
            connected = _connected.Task;
            _connected.TrySetException(new ObjectDisposedException(GetType().Name));
        }

        _ = connected.Exception;
        StateChanged?.Invoke(RedisConnectionState.Disposed, null);
        _shutdown.Dispose();
    }
}
