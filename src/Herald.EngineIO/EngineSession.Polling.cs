using System.Buffers;
using System.IO.Pipelines;
using Herald.Protocol.EngineIO;
using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>The HTTP long-polling transport: GET drains the queue into one payload, POST carries the client's packets.</summary>
internal sealed partial class EngineSession
{
    private bool _pollActive;
    private bool _postActive;

    /// <summary>
    /// A GET: answers at once with everything queued, else waits for the queue, the close or an upgrade.
    /// The four ways out: a payload of queued packets (plus <c>1</c> when a graceful close finished),
    /// <c>1</c> when the session closed, <c>6</c> when the client closed it or an upgrade probe succeeded,
    /// nothing (and the session closes) when the client went away.
    /// </summary>
    internal async Task HandlePollAsync(HttpContext context)
    {
        var admission = Admit(ref _pollActive);
        if (admission == Admission.Duplicate)
        {
            // "a client MUST NOT have more than one active GET request ... the server MUST return an HTTP 400
            // error status and close the session": the pending GET then answers the close packet.
            EngineIOLog.PollOverlap(_logger, Id);
            Abort(EngineCloseReasons.TransportError, new InvalidOperationException("Overlapping long-polling GET requests."));
        }

        if (admission == Admission.UnknownSid && _server.TryConsumeClientClosedPoll(Id))
        {
            // The client's close POST was processed between this GET's session lookup and its admission:
            // answer the noop the GET would have got had it arrived first (see EngineIOServer's grace entry).
            context.Response.ContentType = "text/plain; charset=UTF-8";
            context.Response.ContentLength = s_noop.Length;
            await context.Response.Body.WriteAsync(s_noop, context.RequestAborted);
            return;
        }

        if (admission != Admission.Accepted)
        {
            await _server.RejectAsync(context, admission == Admission.UnknownSid ? EngineErrorCode.UnknownSid : EngineErrorCode.BadRequest);
            return;
        }

        _server.Options.OnHeaders?.Invoke(context);
        OutboundPacket[]? batch = null;
        var count = 0;
        var finishClose = false;
        var answeredNoopDuringUpgrade = false;
        ReadOnlyMemory<byte> single = default;
        var aborted = context.RequestAborted;
        try
        {
            while (true)
            {
                var signal = GetSignal();
                lock (_lock)
                {
                    if (_state == SessionState.Closed)
                    {
                        single = _clientClosed ? s_noop : s_close;
                        break;
                    }

                    if (_upgrade == UpgradeState.Probed && _upgradeNoopDue && _queue.Count == 0)
                    {
                        // The client probed a WebSocket and the upgrade check ticked: end this poll with a noop so the
                        // client can pause polling and send the upgrade. Until that tick, what is queued goes on this
                        // poll, as on the reference server.
                        _upgradeNoopDue = false;
                        single = s_noop;
                        answeredNoopDuringUpgrade = true;
                        break;
                    }

                    if (_queue.Count > 0 || _state == SessionState.Closing)
                    {
                        batch = TakeQueuedLocked(out count);
                        finishClose = _state == SessionState.Closing;
                        break;
                    }
                }

                await WaitForSignalAsync(signal, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The reference server closes the session when a pending poll is cancelled by the client.
            lock (_lock)
            {
                _pollActive = false;
            }

            Abort(EngineCloseReasons.TransportError, new IOException("Poll connection closed prematurely."));
            return;
        }

        try
        {
            if (batch is not null)
            {
                await WritePayloadAsync(context.Response, batch, count, finishClose, aborted);
            }
            else
            {
                await WriteTextAsync(context.Response, single, aborted);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The packets taken for this response are lost with it: the session cannot go on in order.
            Abort(EngineCloseReasons.TransportError, ex);
        }
        finally
        {
            if (batch is not null)
            {
                ReturnBatch(batch, count);
            }

            lock (_lock)
            {
                _pollActive = false;
                EndInFlightLocked();
            }

            if (finishClose)
            {
                Abort(_closeReason);
            }

            if (answeredNoopDuringUpgrade)
            {
                // This poll may have consumed a wake-up meant for the WebSocket writer that takes over.
                Signal();
            }
        }
    }

    /// <summary>A POST: parses the payload and hands each packet over, in order.</summary>
    internal async Task HandlePostAsync(HttpContext context)
    {
        var admission = Admit(ref _postActive);
        if (admission == Admission.Duplicate)
        {
            Abort(EngineCloseReasons.TransportError, new InvalidOperationException("Overlapping long-polling POST requests."));
        }

        if (admission != Admission.Accepted)
        {
            await _server.RejectAsync(context, admission == Admission.UnknownSid ? EngineErrorCode.UnknownSid : EngineErrorCode.BadRequest);
            return;
        }

        // The packets of this POST are handled with its headers as the current ones (CurrentRequestHeaders).
        _currentHeaders = EngineIOServer.CopyHeaders(context.Request.Headers);
        _server.Options.OnHeaders?.Invoke(context);
        try
        {
            var max = _server.Options.MaxHttpBufferSize;
            if (context.Request.ContentLength > max)
            {
                EngineIOLog.PayloadTooLarge(_logger, Id, context.Request.ContentLength.Value);
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return;
            }

            var reader = context.Request.BodyReader;
            bool ok;
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                var buffer = result.Buffer;
                if (buffer.Length > max)
                {
                    reader.AdvanceTo(buffer.End);
                    EngineIOLog.PayloadTooLarge(_logger, Id, buffer.Length);
                    context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                    return;
                }

                if (result.IsCompleted)
                {
                    try
                    {
                        ok = ProcessPayload(buffer);
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.End);
                    }

                    break;
                }

                // Examined everything, consumed nothing: wait for the whole body.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (!ok)
            {
                await _server.RejectAsync(context, EngineErrorCode.BadRequest);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "text/html";
            context.Response.ContentLength = 2;
            await context.Response.BodyWriter.WriteAsync(s_ok, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away in the middle of its POST; the session's fate is decided by its GET and heartbeat.
        }
        finally
        {
            lock (_lock)
            {
                _postActive = false;
            }
        }
    }

    /// <summary>Admits one polling request of a kind (GET or POST) of which only one may be active.</summary>
    private Admission Admit(ref bool active)
    {
        lock (_lock)
        {
            if (_state == SessionState.Closed)
            {
                return Admission.UnknownSid;
            }

            if (_transportName != EngineTransports.Polling)
            {
                // The session upgraded: the reference server answers polling requests with "Bad request".
                return Admission.BadRequest;
            }

            if (active)
            {
                return Admission.Duplicate;
            }

            active = true;
            return Admission.Accepted;
        }
    }

    /// <summary>Parses a complete POST body; false (and the session closed) when it is malformed.</summary>
    private bool ProcessPayload(ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            // An empty body is one empty packet for the reference parser: a parse error.
            Abort(EngineCloseReasons.ParseError, new InvalidDataException("Empty long-polling payload."));
            return false;
        }

        while (true)
        {
            EnginePacket packet;
            try
            {
                if (!EnginePacketParser.TryParse(ref payload, out packet))
                {
                    return true;
                }
            }
            catch (InvalidDataException ex)
            {
                Abort(EngineCloseReasons.ParseError, ex);
                return false;
            }

            bool goOn;
            if (!packet.IsBase64 && packet.Data.IsSingleSegment)
            {
                goOn = OnPacket(packet.Type, packet.Data.FirstSpan, packet.IsBinary);
            }
            else
            {
                var length = packet.GetDataLength();
                var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                try
                {
                    var written = packet.CopyDataTo(rented);
                    goOn = OnPacket(packet.Type, rented.AsSpan(0, written), packet.IsBinary);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }

            if (!goOn)
            {
                return true;
            }
        }
    }

    private static async Task WriteTextAsync(HttpResponse response, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=UTF-8";
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, cancellationToken);
    }

    /// <summary>One payload for the whole batch: <c>packet\x1epacket...</c>, binary as <c>b</c>+base64.</summary>
    private static async Task WritePayloadAsync(HttpResponse response, OutboundPacket[] batch, int count, bool appendClose, CancellationToken cancellationToken)
    {
        long length = appendClose ? 1 : 0;
        for (var i = 0; i < count; i++)
        {
            length += GetPollingForm(batch[i]).Length;
        }

        length += Math.Max(count + (appendClose ? 1 : 0) - 1, 0);

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=UTF-8";
        response.ContentLength = length;
        var writer = response.BodyWriter;
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                EnginePacketWriter.WriteSeparator(writer);
            }

            writer.Write(GetPollingForm(batch[i]).Span);
        }

        if (appendClose)
        {
            if (count > 0)
            {
                EnginePacketWriter.WriteSeparator(writer);
            }

            writer.Write(EngineLiterals.Close);
        }

        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// A packet as it appears in a polling payload. Text messages are already complete packets; a binary
    /// message's base64 form is built once and cached on the message, so a broadcast encodes it once.
    /// </summary>
    private static ReadOnlyMemory<byte> GetPollingForm(OutboundPacket packet)
    {
        var message = packet.Message;
        if (message is null)
        {
            return packet.Type == EnginePacketType.Ping ? s_ping : s_noop;
        }

        if (!message.IsBinary)
        {
            return message.Payload;
        }

        if (message.TransportCache is PollingBinaryForm cached)
        {
            return cached.Bytes;
        }

        var encoded = EnginePacketWriter.EncodePollingBinary(message.Payload.Span);
        message.TransportCache ??= new PollingBinaryForm(encoded);
        return encoded;
    }

    private enum Admission
    {
        Accepted,
        UnknownSid,
        BadRequest,
        Duplicate,
    }

    private sealed class PollingBinaryForm(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;
    }
}
