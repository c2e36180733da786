using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// A link from this process to one remote node's channel endpoint: it carries this process's subscriptions to
/// the node and the node's matching publications back, and forwards this process's publications to the node's
/// bus. It reconnects with exponential backoff (and jitter) and restores every subscription on each connection.
/// </summary>
public sealed class PeerLink : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly PeerLinkMessageBus _owner;
    private readonly string _key;
    private readonly ILogger _logger;
    private readonly PeerLinkOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private PeerLinkConnection? _connection;
    private MessageBusState _state = MessageBusState.Connecting;
    private Task _run = Task.CompletedTask;
    private int _disposed;

    internal PeerLink(PeerLinkMessageBus owner, string nodeName, Uri uri, string key, ILogger logger)
    {
        _owner = owner;
        NodeName = nodeName;
        Uri = uri;
        _key = key;
        _logger = logger;
        _options = owner.Options;
        _ = _firstConnected.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The remote node's name.</summary>
    public string NodeName { get; }

    /// <summary>The remote node's channel endpoint.</summary>
    public Uri Uri { get; }

    /// <summary>
    /// <see cref="MessageBusState.Connected"/> once connected with every subscription confirmed;
    /// <see cref="MessageBusState.Disconnected"/> while reconnecting.
    /// </summary>
    public MessageBusState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Raised when <see cref="State"/> changes (on the link's own task; keep handlers quick).</summary>
    public event EventHandler<MessageBusStateChangedEventArgs>? StateChanged;

    /// <summary>The number of times the link went up (1 after the first connection).</summary>
    public int ConnectionCount { get; private set; }

    internal bool IsConnected => Volatile.Read(ref _connection) is not null;

    internal void Start() => _run = Task.Run(RunAsync);

    /// <summary>Completes once the link is up with its subscriptions in place; faults if the node refuses the link.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task completing when connected.</returns>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) => _firstConnected.Task.WaitAsync(cancellationToken);

    internal void SetConnection(PeerLinkConnection connection) => Volatile.Write(ref _connection, connection);

    internal void ClearConnection(PeerLinkConnection connection) => Interlocked.CompareExchange(ref _connection, null, connection);

    internal Task SendSubscribe(string name, bool isPattern) => _connection?.Subscribe(name, isPattern) ?? Task.CompletedTask;

    internal void SendUnsubscribe(string name, bool isPattern) => _connection?.Unsubscribe(name, isPattern);

    internal void Forward(PeerFrame frame, string channel)
    {
        if (_connection is { } connection && !connection.Sender.TryEnqueue(frame))
        {
            PeerLinkLog.LinkQueueFull(_logger, NodeName, channel);
        }
    }

    private async Task RunAsync()
    {
        var delay = _options.ReconnectDelay;
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            var wasUp = false;
            Exception? failure = null;
            try
            {
                wasUp = await RunConnectionAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (PeerLinkException e)
            {
                failure = e;
                _firstConnected.TrySetException(e); // ConnectAsync gives up; a background link keeps trying
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or HttpRequestException or TimeoutException)
            {
                failure = e;
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            if (wasUp)
            {
                delay = _options.ReconnectDelay;
            }

            var wait = Jitter(delay);
            if (wasUp)
            {
                PeerLinkLog.LinkLost(_logger, NodeName, Uri, Reason(failure), wait);
            }
            else if (failure is not PeerLinkException)
            {
                PeerLinkLog.LinkConnectFailed(_logger, NodeName, Uri, Reason(failure), wait);
            }

            SetState(MessageBusState.Disconnected, failure);
            try
            {
                await Task.Delay(wait, _options.TimeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    // One connection from connect to loss; true when it got as far as Connected.
    private async Task<bool> RunConnectionAsync(CancellationToken token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PeerLinkProtocol.KeyHeader, _key);
        socket.Options.SetRequestHeader(PeerLinkProtocol.NodeHeader, _owner.NodeName);
        socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = _options.KeepAliveTimeout;
        socket.Options.CollectHttpResponseDetails = true;
        using var reader = new PeerFrameReader(_options.MaxMessageSize);

        using (var connectCts = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            connectCts.CancelAfter(_options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(Uri, connectCts.Token).ConfigureAwait(false);
            }
            catch (WebSocketException e) when (socket.HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                PeerLinkLog.LinkUnauthorized(_logger, NodeName, Uri, (int)socket.HttpStatusCode);
                throw new PeerLinkException($"The node at {Uri} refused the key (HTTP {(int)socket.HttpStatusCode}).", e);
            }

            var welcome = await reader.ReadAsync(socket, connectCts.Token).ConfigureAwait(false);
            if (welcome != PeerFrameReader.Result.Message || reader.MessageType != WebSocketMessageType.Text
                || !PeerLinkProtocol.TryParseControl(reader.Message.Span, out var control) || control.Type != "welcome")
            {
                throw new WebSocketException(WebSocketError.InvalidState, "The node did not send a welcome frame.");
            }

            if (!string.Equals(control.Node, NodeName, StringComparison.Ordinal))
            {
                PeerLinkLog.LinkWrongNode(_logger, NodeName, Uri, control.Node ?? "");
                socket.Abort();
                throw new PeerLinkException($"The node at {Uri} is '{control.Node}', not '{NodeName}'.");
            }
        }

        var connection = new PeerLinkConnection(socket, _options.MaxQueuedFrames, _options.MaxQueuedBytes);
        connection.StartSending(token);
        var confirmations = _owner.Attach(this, connection);
        var receiving = ReceiveLoopAsync(socket, reader, connection, token);
        var up = false;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                // Up once every subscription is confirmed; a node that confirms late does not keep the link down.
                var confirmed = Task.WhenAll(confirmations);
                var first = await Task.WhenAny(confirmed, receiving, Task.Delay(_options.SubscribeTimeout, _options.TimeProvider, timeout.Token)).ConfigureAwait(false);
                await timeout.CancelAsync().ConfigureAwait(false);
                token.ThrowIfCancellationRequested();
                if (first != confirmed && first != receiving)
                {
                    PeerLinkLog.LinkSubscribeTimeout(_logger, NodeName, "(restored subscriptions)", _options.SubscribeTimeout);
                }
            }

            if (!receiving.IsCompleted)
            {
                up = true;
                ConnectionCount++;
                PeerLinkLog.LinkConnected(_logger, NodeName, Uri, confirmations.Count);
                SetState(MessageBusState.Connected, null);
                _firstConnected.TrySetResult();
            }

            await receiving.ConfigureAwait(false);
        }
        finally
        {
            _owner.Detach(this, connection);
            if (Volatile.Read(ref _disposed) != 0)
            {
                await connection.CloseGracefullyAsync(CloseTimeout).ConfigureAwait(false);
            }

            connection.Close();
            try
            {
                await connection.Sending.ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                using var cts = new CancellationTokenSource(CloseTimeout);
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
                {
                }
            }

            socket.Abort();
        }

        return up;
    }

    private async Task ReceiveLoopAsync(WebSocket socket, PeerFrameReader reader, PeerLinkConnection connection, CancellationToken token)
    {
        await Task.Yield();
        while (true)
        {
            var result = await reader.ReadAsync(socket, token).ConfigureAwait(false);
            if (result == PeerFrameReader.Result.Closed)
            {
                return;
            }

            if (result == PeerFrameReader.Result.TooLarge)
            {
                PeerLinkLog.LinkBadFrame(_logger, NodeName);
                return;
            }

            if (reader.MessageType == WebSocketMessageType.Binary)
            {
                if (!PeerLinkProtocol.TryParseMessage(reader.Message.Span, out var channel, out var pattern, out var payloadOffset))
                {
                    PeerLinkLog.LinkBadFrame(_logger, NodeName);
                    return;
                }

                await _owner.DispatchAsync(channel, pattern, reader.Message[payloadOffset..]).ConfigureAwait(false);
                continue;
            }

            if (!PeerLinkProtocol.TryParseControl(reader.Message.Span, out var control))
            {
                PeerLinkLog.LinkBadFrame(_logger, NodeName);
                return;
            }

            switch (control.Type)
            {
                case "subscribed" when control.Id is { } id:
                    connection.Confirm(id);
                    break;
                case "error":
                    PeerLinkLog.LinkSubscriptionRefused(_logger, NodeName, control.Message);
                    if (control.Id is { } failed)
                    {
                        connection.Confirm(failed);
                    }

                    break;
            }
        }
    }

    private static string Reason(Exception? failure)
        => failure is null ? "closed by the node" : (failure.InnerException ?? failure).Message;

    private static TimeSpan Jitter(TimeSpan delay)
        => TimeSpan.FromTicks((long)(delay.Ticks * (0.8 + (Random.Shared.NextDouble() * 0.4))));

    private void SetState(MessageBusState state, Exception? error)
    {
        MessageBusState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state || previous == MessageBusState.Disposed)
            {
                return;
            }

            _state = state;
        }

        StateChanged?.Invoke(this, new MessageBusStateChangedEventArgs(previous, state, error));
    }

    /// <summary>Closes the link (a clean WebSocket close when it is up) and stops reconnecting.</summary>
    /// <returns>A task completing when the link is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _owner.RemoveLink(this);
        if (Volatile.Read(ref _connection) is { } connection)
        {
            await connection.CloseGracefullyAsync(CloseTimeout).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _firstConnected.TrySetCanceled();
        SetState(MessageBusState.Disposed, null);
        _stopping.Dispose();
    }
}
