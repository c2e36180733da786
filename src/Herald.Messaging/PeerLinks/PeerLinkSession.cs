using System.Net.WebSockets;
using System.Text;
using Herald.Messaging.Internal;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// One linked node on the server side: subscribes to this node's bus on its behalf and forwards what arrives,
/// publishes what it sends. Subscribe/unsubscribe/publish run on the receive loop only, so the subscription
/// tables need no lock; bus handlers only encode and enqueue.
/// </summary>
internal sealed class PeerLinkSession
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly IMessageBus _bus;
    private readonly PeerLinkServerOptions _options;
    private readonly string _remote;
    private readonly ILogger _logger;
    private readonly PeerFrameSender _sender;
    private readonly Dictionary<string, SessionSubscription> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SessionSubscription> _patterns = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _receiveCts = new();
    private int _overflowed;
    private volatile bool _ended;
    private Task? _sending;
    private Task? _overflowClose;

    public PeerLinkSession(WebSocket socket, IMessageBus bus, PeerLinkServerOptions options, string remote, ILogger logger)
    {
        _socket = socket;
        _bus = bus;
        _options = options;
        _remote = remote;
        _logger = logger;
        _sender = new PeerFrameSender(options.MaxQueuedFrames, options.MaxQueuedBytes);
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var registration = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _receiveCts);
        using var sendCts = new CancellationTokenSource();
        _sender.TryEnqueue(PeerFrame.Text(PeerLinkProtocol.Welcome(_bus.NodeName)));
        var sending = _sending = _sender.RunAsync(_socket, sendCts.Token);
        PeerLinkLog.SessionStarted(_logger, _remote);

        WebSocketCloseStatus? status = null;
        var description = "";
        try
        {
            (status, description) = await ReceiveLoopAsync(_receiveCts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (Volatile.Read(ref _overflowed) != 0 && e is WebSocketException or IOException or OperationCanceledException)
        {
            // The overflow close (CloseForOverflowAsync) gave up on a node that did not answer it.
            (status, description) = (WebSocketCloseStatus.PolicyViolation, "send queue full");
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            (status, description) = (WebSocketCloseStatus.EndpointUnavailable, "node stopping");
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            PeerLinkLog.SessionFailed(_logger, _remote, e);
        }
        finally
        {
            _ended = true;
            await UnsubscribeAllAsync().ConfigureAwait(false);
            _sender.Complete();
        }

        // The writer stops after the frame it is sending; a peer that does not read cannot hold us longer than CloseTimeout.
        sendCts.CancelAfter(CloseTimeout);
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
        }

        if (Volatile.Read(ref _overflowClose) is { } overflowClose)
        {
            // The 1008 close frame is (being) sent by the overflow; the node answered it or was dropped.
            await overflowClose.ConfigureAwait(false);
            (status, description) = (WebSocketCloseStatus.PolicyViolation, "send queue full");
        }
        else
        {
            await CloseAsync(status, description).ConfigureAwait(false);
        }

        PeerLinkLog.SessionEnded(_logger, _remote, status, description);
        _receiveCts.Dispose();
    }

    private async Task<(WebSocketCloseStatus, string)> ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        using var reader = new PeerFrameReader(_options.MaxMessageSize);
        while (true)
        {
            switch (await reader.ReadAsync(_socket, cancellationToken).ConfigureAwait(false))
            {
                case PeerFrameReader.Result.Closed:
                    return (WebSocketCloseStatus.NormalClosure, "");
                case PeerFrameReader.Result.TooLarge:
                    PeerLinkLog.SessionBadFrame(_logger, _remote, "too large");
                    return (WebSocketCloseStatus.MessageTooBig, "frame too large");
            }

            if (reader.MessageType == WebSocketMessageType.Binary)
            {
                if (!PeerLinkProtocol.TryParsePublish(reader.Message.Span, out var channelBytes, out var payloadOffset))
                {
                    PeerLinkLog.SessionBadFrame(_logger, _remote, "bad publish frame");
                    return (WebSocketCloseStatus.InvalidPayloadData, "bad publish frame");
                }

                var channel = Encoding.UTF8.GetString(channelBytes);
                await PublishAsync(channel, reader.Message[payloadOffset..], cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!PeerLinkProtocol.TryParseControl(reader.Message.Span, out var control))
            {
                PeerLinkLog.SessionBadFrame(_logger, _remote, "bad control frame");
                return (WebSocketCloseStatus.InvalidPayloadData, "bad control frame");
            }

            switch (control.Type)
            {
                case "subscribe":
                    await SubscribeAsync(control, cancellationToken).ConfigureAwait(false);
                    break;
                case "unsubscribe":
                    await UnsubscribeAsync(control).ConfigureAwait(false);
                    break;
                default:
                    break; // unknown control frames are ignored, for newer peers
            }
        }
    }

    private async ValueTask PublishAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        // The bus hands this publication back to our own subscriptions that match it: remember it so that those
        // copies are not sent back to the node that published it (it already delivered it locally).
        if (_channels.Count + _patterns.Count > 0)
        {
            var hash = SessionSubscription.Hash(channel, payload.Span);
            if (_channels.TryGetValue(channel, out var exact))
            {
                exact.ExpectEcho(hash);
            }

            foreach (var pattern in _patterns.Values)
            {
                if (GlobPattern.IsMatch(pattern.Name, channel))
                {
                    pattern.ExpectEcho(hash);
                }
            }
        }

        try
        {
            await _bus.PublishAsync(channel, payload, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MessageBusException or ObjectDisposedException)
        {
            PeerLinkLog.SessionPublishFailed(_logger, _remote, channel, e);
        }
    }

    private async ValueTask SubscribeAsync(ControlFrame control, CancellationToken cancellationToken)
    {
        var isPattern = control.Pattern is not null;
        var name = control.Pattern ?? control.Channel;
        var id = control.Id ?? 0;
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > PeerLinkProtocol.MaxNameBytes)
        {
            Send(PeerLinkProtocol.Error(id, "subscribe needs a channel or a pattern"));
            return;
        }

        if (_options.AuthorizeSubscription is { } authorize && !authorize(_remote, name, isPattern))
        {
            PeerLinkLog.SessionSubscriptionRefused(_logger, _remote, name);
            Send(PeerLinkProtocol.Error(id, "subscription refused"));
            return;
        }

        var table = isPattern ? _patterns : _channels;
        if (!table.ContainsKey(name))
        {
            if (_channels.Count + _patterns.Count >= _options.MaxSubscriptions)
            {
                Send(PeerLinkProtocol.Error(id, $"more than {_options.MaxSubscriptions} subscriptions"));
                return;
            }

            var subscription = new SessionSubscription(this, name, isPattern, _options.MaxPendingEchoes);
            try
            {
                subscription.BusSubscription = isPattern
                    ? await _bus.SubscribePatternAsync(name, subscription.HandleAsync, cancellationToken).ConfigureAwait(false)
                    : await _bus.SubscribeAsync(name, subscription.HandleAsync, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MessageBusException or ObjectDisposedException or ArgumentException)
            {
                PeerLinkLog.SessionSubscribeFailed(_logger, _remote, name, e);
                Send(PeerLinkProtocol.Error(id, "the node could not subscribe"));
                return;
            }

            table[name] = subscription;
        }

        Send(PeerLinkProtocol.Subscribed(id));
    }

    private async ValueTask UnsubscribeAsync(ControlFrame control)
    {
        var isPattern = control.Pattern is not null;
        var name = control.Pattern ?? control.Channel;
        if (name is not null && (isPattern ? _patterns : _channels).Remove(name, out var subscription))
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask UnsubscribeAllAsync()
    {
        foreach (var subscription in _channels.Values.Concat(_patterns.Values))
        {
            try
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MessageBusException or ObjectDisposedException)
            {
                PeerLinkLog.SessionFailed(_logger, _remote, e);
            }
        }

        _channels.Clear();
        _patterns.Clear();
    }

    private void Send(byte[] control)
    {
        var frame = PeerFrame.Text(control);
        Enqueue(frame);
        frame.Release();
    }

    private void Enqueue(PeerFrame frame)
    {
        if (!_sender.TryEnqueue(frame) && !_ended && Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            Volatile.Write(ref _overflowClose, Task.Run(CloseForOverflowAsync));
        }
    }

    /// <summary>
    /// The node cannot keep up: what is queued for it is dropped, the frame being written is finished, then the close
    /// frame 1008 goes out (the documented close). The receive loop goes on until the node answers the close; a node
    /// that reads nothing at all within <see cref="CloseTimeout"/> cannot receive it and is dropped (reset).
    /// </summary>
    /// <remarks>
    /// The receive is never cancelled to do this: cancelling a pending WebSocket receive aborts the socket, which is
    /// how this used to end in a reset even for a node that read again.
    /// </remarks>
    private async Task CloseForOverflowAsync()
    {
        PeerLinkLog.SessionOverflow(_logger, _remote, _options.MaxQueuedFrames, _options.MaxQueuedBytes);
        _sender.Complete();
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            if (_sending is { } sending)
            {
                await sending.WaitAsync(timeout.Token).ConfigureAwait(false);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "send queue full", timeout.Token).ConfigureAwait(false);
            }

            // The node's answering close ends the receive loop; one that never answers is dropped after CloseTimeout.
            _receiveCts.CancelAfter(CloseTimeout);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or TimeoutException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus? status, string description)
    {
        if (status is null || _socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            _socket.Abort();
            return;
        }

        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await _socket.CloseOutputAsync(status.Value, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            _socket.Abort();
        }
    }

    /// <summary>One channel or pattern the linked node subscribed to.</summary>
    private sealed class SessionSubscription(PeerLinkSession session, string name, bool isPattern, int maxPendingEchoes) : IAsyncDisposable
    {
        private readonly Queue<int> _echoes = new();

        public string Name { get; } = name;

        public IAsyncDisposable? BusSubscription { get; set; }

        public static int Hash(string channel, ReadOnlySpan<byte> payload)
        {
            var hash = default(HashCode);
            hash.Add(channel, StringComparer.Ordinal);
            hash.AddBytes(payload);
            return hash.ToHashCode();
        }

        /// <summary>
        /// The next copy of this publication that reaches this subscription is the node's own: skip it. The bus
        /// keeps one publisher's order, so own copies come back in the order they were published; other
        /// publishers' messages in between do not match the head and pass.
        /// </summary>
        public void ExpectEcho(int hash)
        {
            lock (_echoes)
            {
                if (_echoes.Count >= maxPendingEchoes)
                {
                    _echoes.Dequeue();
                }

                _echoes.Enqueue(hash);
            }
        }

        public ValueTask HandleAsync(BusMessage message)
        {
            if (session._ended)
            {
                return ValueTask.CompletedTask;
            }

            lock (_echoes)
            {
                if (_echoes.Count > 0 && _echoes.Peek() == Hash(message.Channel, message.Payload.Span))
                {
                    _echoes.Dequeue();
                    return ValueTask.CompletedTask;
                }
            }

            var pattern = isPattern ? Name : null;
            var frame = PeerFrame.RentBinary(PeerLinkProtocol.GetMessageLength(message.Channel, pattern, message.Payload.Length));
            PeerLinkProtocol.WriteMessage(frame.Span, message.Channel, pattern, message.Payload.Span);
            session.Enqueue(frame);
            frame.Release();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => BusSubscription?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
