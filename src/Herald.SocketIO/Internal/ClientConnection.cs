using System.Text.Json;
using Herald.EngineIO;
using Herald.Protocol.SocketIO;
using Microsoft.Extensions.Logging;

namespace Herald.SocketIO.Internal;

/// <summary>
/// The Socket.IO side of one Engine.IO connection (socket.io's <c>Client</c>): decodes packets, routes them
/// to the socket of their namespace, handles CONNECT, and closes the connection on any protocol violation
/// or when no namespace is joined within <see cref="SocketIOOptions.ConnectTimeout"/>.
/// </summary>
internal sealed class ClientConnection : IEngineConnectionListener
{
    private static readonly JsonElement EmptyAuth = JsonDocument.Parse("{}").RootElement;

    private readonly SocketIOServer _server;
    private readonly Lock _decoderLock = new();
    private readonly Lock _lock = new();
    private readonly SocketIODecoder _decoder;
    private readonly bool _msgpack;
    private readonly Dictionary<string, Socket> _sockets = new(StringComparer.Ordinal);
    // Namespaces whose CONNECT is in progress; created on the first CONNECT and dropped when empty, so an
    // idle connection does not keep a set (and its entry array) alive.
    private HashSet<string>? _connecting;
    private ITimer? _connectTimer;
    private bool _closed;

    // SocketIOOptions.ConnectRateLimit's bucket, guarded by _lock (touched once per CONNECT packet, never per event).
    private double _connectTokens;
    private long _connectTokensUpdated;
    private int _connectsRefusedInARow;

    // Bytes of the attachments received for the packet being reassembled, guarded by _decoderLock: bounded by the
    // Engine.IO payload bound in total, not only per message (else MaxAttachments × MaxHttpBufferSize per connection).
    private long _pendingAttachmentBytes;

    // SocketIOOptions.HandlerErrorLogRateLimit's bucket, guarded by _errorLogLock (touched only when a handler failed).
    private readonly Lock _errorLogLock = new();
    private double _errorLogTokens;
    private long _errorLogUpdated;
    private int _errorLogsSuppressed;

    public ClientConnection(SocketIOServer server, EngineConnection connection)
    {
        _server = server;
        Connection = connection;
        _decoder = new SocketIODecoder(server.Options.MaxAttachments);
        _msgpack = server.Options.Parser == SocketIOParser.MessagePack;
        if (server.Options.ConnectRateLimit is { } rate)
        {
            _connectTokens = rate.Burst;
            _connectTokensUpdated = server.TimeProvider.GetTimestamp();
        }

        if (server.Options.HandlerErrorLogRateLimit is { } errors)
        {
            _errorLogTokens = errors.Burst;
            _errorLogUpdated = server.TimeProvider.GetTimestamp();
        }

        connection.Listener = this;
        _connectTimer = server.TimeProvider.CreateTimer(static s => ((ClientConnection)s!).OnConnectTimeout(), this,
            server.Options.ConnectTimeout, Timeout.InfiniteTimeSpan);
    }

    public EngineConnection Connection { get; }

    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    private ILogger Logger => _server.Logger;

    public void OnMessage(EngineConnection connection, ReadOnlySpan<byte> data, bool isBinary)
    {
        if (_msgpack)
        {
            OnMsgPackMessage(data, isBinary);
            return;
        }

        OnPacketMessage(data, isBinary);
    }

    /// <summary>
    /// <see cref="SocketIOParser.MessagePack"/>: one binary message per packet, transcoded to the text packet and its
    /// attachments that the usual decoder then checks (MaxAttachments, sizes, namespaces) as for the default parser.
    /// </summary>
    private void OnMsgPackMessage(ReadOnlySpan<byte> data, bool isBinary)
    {
        if (!isBinary)
        {
            SocketIOMetrics.Received(data.Length);
            CloseForError("a text message on a MessagePack endpoint");
            return;
        }

        if (MsgPackTranscoder.Decode(data, _server.Options.MaxAttachments, out var error) is not { } decoded)
        {
            SocketIOMetrics.Received(data.Length);
            CloseForError(error ?? "invalid MessagePack packet");
            return;
        }

        OnPacketMessage(decoded.Text, isBinary: false);
        foreach (var attachment in decoded.Attachments)
        {
            if (IsClosed)
            {
                return;
            }

            OnPacketMessage(attachment, isBinary: true);
        }
    }

    private void OnPacketMessage(ReadOnlySpan<byte> data, bool isBinary)
    {
        SocketIOMetrics.Received(data.Length);
        SocketIODecodeStatus status;
        SocketIOPacket? packet;
        string? error;
        lock (_decoderLock)
        {
            if (_closed)
            {
                return;
            }

            if (isBinary && _decoder.IsReconstructing)
            {
                _pendingAttachmentBytes += data.Length;
                if (_pendingAttachmentBytes > _server.Options.Engine.MaxHttpBufferSize)
                {
                    status = SocketIODecodeStatus.Error;
                    packet = null;
                    error = $"the attachments of one packet exceed {_server.Options.Engine.MaxHttpBufferSize} bytes";
                    _pendingAttachmentBytes = 0;
                    goto Decoded;
                }
            }

            status = _decoder.Decode(data, isBinary, out packet, out error);
            if (status != SocketIODecodeStatus.NeedAttachments)
            {
                _pendingAttachmentBytes = 0;
            }
        }

    Decoded:

        switch (status)
        {
            case SocketIODecodeStatus.Packet:
                Route(packet!);
                break;
            case SocketIODecodeStatus.Error:
                CloseForError(error ?? "invalid packet");
                break;
        }
    }

    public void OnClose(EngineConnection connection, string reason, Exception? error)
    {
        Socket[] sockets;
        lock (_lock)
        {
            _closed = true;
            sockets = [.. _sockets.Values];
            _sockets.Clear();
            _connecting = null;
        }

        DisposeTimer();
        lock (_decoderLock)
        {
            _decoder.Dispose();
        }

        foreach (var socket in sockets)
        {
            socket.OnClose(reason);
        }

        _server.RemoveClient(this);
    }

    /// <summary>
    /// Whether a handler failure may be logged now (<see cref="SocketIOOptions.HandlerErrorLogRateLimit"/>); when it may,
    /// <paramref name="suppressed"/> is the number of failures left out since the last one logged.
    /// </summary>
    public bool TryTakeErrorLog(out int suppressed)
    {
        suppressed = 0;
        if (_server.Options.HandlerErrorLogRateLimit is not { } rate)
        {
            return true;
        }

        lock (_errorLogLock)
        {
            var now = _server.TimeProvider.GetTimestamp();
            var elapsed = (double)(now - _errorLogUpdated) / _server.TimeProvider.TimestampFrequency;
            _errorLogTokens = Math.Min(rate.Burst, _errorLogTokens + (Math.Max(0, elapsed) * rate.PermitsPerSecond));
            _errorLogUpdated = now;
            if (_errorLogTokens < 1)
            {
                _errorLogsSuppressed++;
                return false;
            }

            _errorLogTokens -= 1;
            suppressed = _errorLogsSuppressed;
            _errorLogsSuppressed = 0;
            return true;
        }
    }

    /// <summary>Closes the Engine.IO connection because the client broke the protocol; the sockets end with <c>forced close</c>.</summary>
    public void CloseForError(string reason)
    {
        SocketIOLog.InvalidPacket(Logger, Connection.Id, reason);
        lock (_lock)
        {
            _closed = true;
        }

        Connection.Close();
    }

    /// <summary>Records an accepted socket before its CONNECT answer goes out, so the client's next packets find it.</summary>
    public bool Register(Socket socket)
    {
        lock (_lock)
        {
            ForgetConnecting(socket.Namespace.Name);
            if (_closed)
            {
                return false;
            }

            _sockets[socket.Namespace.Name] = socket;
        }

        DisposeTimer();
        return true;
    }

    private void ForgetConnecting(string ns)
    {
        if (_connecting is not null && _connecting.Remove(ns) && _connecting.Count == 0)
        {
            _connecting = null;
        }
    }

    public void ConnectFailed(string ns)
    {
        lock (_lock)
        {
            ForgetConnecting(ns);
        }
    }

    public void Remove(Socket socket)
    {
        lock (_lock)
        {
            if (_sockets.TryGetValue(socket.Namespace.Name, out var current) && ReferenceEquals(current, socket))
            {
                _sockets.Remove(socket.Namespace.Name);
            }
        }
    }

    /// <summary>Disconnects every namespace (DISCONNECT packets) then closes the Engine.IO connection.</summary>
    public void DisconnectAll()
    {
        Socket[] sockets;
        lock (_lock)
        {
            sockets = [.. _sockets.Values];
        }

        foreach (var socket in sockets)
        {
            socket.Disconnect();
        }

        Connection.Close();
    }

    public bool Send(EncodedSocketIOPacket encoded, bool isVolatile)
    {
        SocketIOMetrics.Sent(encoded.Text.Length);
        if (_msgpack)
        {
            var packed = EngineMessage.FromBinary(MsgPackTranscoder.Encode(encoded.Text.AsSpan(1), encoded.Attachments));
            return isVolatile ? Connection.SendVolatile(packed) : Connection.Send(packed);
        }

        if (encoded.Attachments.Length == 0)
        {
            var message = EngineMessage.FromTextPacket(encoded.Text);
            return isVolatile ? Connection.SendVolatile(message) : Connection.Send(message);
        }

        var messages = BroadcastPacket.ToMessages(encoded);
        return isVolatile ? Connection.SendVolatile(messages) : Connection.Send(messages);
    }

    public bool Send(byte[] text, bool isVolatile)
    {
        SocketIOMetrics.Sent(text.Length);
        var message = _msgpack ? EngineMessage.FromBinary(MsgPackTranscoder.Encode(text.AsSpan(1), [])) : EngineMessage.FromTextPacket(text);
        return isVolatile ? Connection.SendVolatile(message) : Connection.Send(message);
    }

    public bool Send(EngineMessage[] messages)
    {
        SocketIOMetrics.Sent(messages[0].Payload.Length);
        if (_msgpack)
        {
            return Connection.Send(Pack(messages));
        }

        return messages.Length == 1 ? Connection.Send(messages[0]) : Connection.Send(messages);
    }

    /// <summary>A volatile broadcast: queued only if the connection is writable now (else dropped and counted by the Engine.IO layer).</summary>
    public bool SendVolatile(EngineMessage[] messages) => _msgpack
        ? Connection.SendVolatile(Pack(messages))
        : messages.Length == 1 ? Connection.SendVolatile(messages[0]) : Connection.SendVolatile(messages);

    /// <summary>
    /// A broadcast's pre-built messages (the text packet, then its attachments) as one MessagePack message. Built per
    /// connection: a MessagePack endpoint's fan-out transcodes once per recipient (see docs/benchmarks.md).
    /// </summary>
    private static EngineMessage Pack(EngineMessage[] messages)
    {
        ReadOnlyMemory<byte>[] attachments = messages.Length == 1 ? [] : new ReadOnlyMemory<byte>[messages.Length - 1];
        for (var i = 1; i < messages.Length; i++)
        {
            attachments[i - 1] = messages[i].Payload;
        }

        return EngineMessage.FromBinary(MsgPackTranscoder.Encode(messages[0].Payload.Span[1..], attachments));
    }

    private void Route(SocketIOPacket packet)
    {
        var name = packet.Namespace;
        if (packet.Type == SocketIOPacketType.Connect)
        {
            bool valid, duplicate;
            Socket? existing;
            var refusal = ConnectRefusal.None;
            var refusedInARow = 0;
            lock (_lock)
            {
                // The official client sends CONNECT again when connect() is called on a socket that is
                // still connecting (socket.io-client Socket.open). While the first one is in progress the
                // duplicate is dropped; once connected it is answered again with the same id, so the
                // client ends up connected once instead of losing its whole connection.
                duplicate = _connecting?.Contains(name) == true;
                _sockets.TryGetValue(name, out existing);
                if (!_closed && !duplicate)
                {
                    refusal = Admit(existing is null, out refusedInARow);
                }

                valid = !_closed && !duplicate && existing is null && refusal == ConnectRefusal.None
                    && (_connecting ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            }

            if (refusal != ConnectRefusal.None)
            {
                packet.Dispose();
                Refuse(name, refusal, refusedInARow, answer: existing is null);
                return;
            }

            if (duplicate || (existing is not null && !_closed))
            {
                packet.Dispose();
                if (existing is not null)
                {
                    Send(SocketIOPacketEncoder.EncodeConnect(name, existing.Id, existing.Pid), isVolatile: false);
                }

                return;
            }

            if (!valid)
            {
                packet.Dispose();
                CloseForError("CONNECT for a namespace already joined");
                return;
            }

            var auth = packet.Payload is null ? EmptyAuth : packet.Data.Clone();
            packet.Dispose();
            Connect(name, auth);
            return;
        }

        Socket? socket = null;
        if (packet.Type != SocketIOPacketType.ConnectError)
        {
            lock (_lock)
            {
                _sockets.TryGetValue(name, out socket);
            }
        }

        if (socket is null)
        {
            packet.Dispose();
            CloseForError($"{packet.Type} packet for namespace '{name}' which is not joined");
            return;
        }

        socket.OnPacket(packet);
    }

    /// <summary>
    /// Applies the per-connection CONNECT limits (under <c>_lock</c>): a token of <see cref="SocketIOOptions.ConnectRateLimit"/>
    /// for every CONNECT, then a place under <see cref="SocketIOOptions.MaxNamespacesPerConnection"/> for a new namespace.
    /// </summary>
    private ConnectRefusal Admit(bool newNamespace, out int refusedInARow)
    {
        refusedInARow = 0;
        var options = _server.Options;
        if (options.ConnectRateLimit is { } rate)
        {
            var now = _server.TimeProvider.GetTimestamp();
            var elapsed = (double)(now - _connectTokensUpdated) / _server.TimeProvider.TimestampFrequency;
            _connectTokens = Math.Min(rate.Burst, _connectTokens + (Math.Max(0, elapsed) * rate.PermitsPerSecond));
            _connectTokensUpdated = now;
            if (_connectTokens < 1)
            {
                refusedInARow = ++_connectsRefusedInARow;
                return ConnectRefusal.Rate;
            }

            _connectTokens -= 1;
            _connectsRefusedInARow = 0;
        }

        return newNamespace && _sockets.Count + (_connecting?.Count ?? 0) >= options.MaxNamespacesPerConnection
            ? ConnectRefusal.Namespaces
            : ConnectRefusal.None;
    }

    /// <summary>
    /// Answers a CONNECT refused by a per-connection limit with a CONNECT_ERROR (the client's <c>connect_error</c>), or
    /// nothing for a namespace already joined (an error would tear down a working socket); a client that keeps
    /// sending CONNECT until <see cref="EngineIORateLimit.Burst"/> rate refusals in a row is not a socket.io client
    /// waiting for an answer, and its connection is closed.
    /// </summary>
    private void Refuse(string name, ConnectRefusal refusal, int refusedInARow, bool answer)
    {
        var rate = refusal == ConnectRefusal.Rate;
        SocketIOMetrics.ConnectRefused(rate);
        SocketIOLog.ConnectRefused(Logger, Connection.Id, name, rate ? "ConnectRateLimit" : "MaxNamespacesPerConnection");
        if (rate && refusedInARow >= (_server.Options.ConnectRateLimit?.Burst ?? int.MaxValue))
        {
            SocketIOLog.ConnectFlood(Logger, Connection.Id, refusedInARow);
            SocketIOMetrics.ConnectFloodDisconnects.Add(1);
            lock (_lock)
            {
                _closed = true;
            }

            Connection.Close();
            return;
        }

        if (answer)
        {
            var message = rate ? "Too many namespace connects" : "Too many namespaces";
            Send(SocketIOPacketEncoder.EncodeConnectError(name, message, null, _server.JsonOptions), isVolatile: false);
        }
    }

    private enum ConnectRefusal
    {
        None,
        Rate,
        Namespaces,
    }

    private void Connect(string name, JsonElement auth)
    {
        var handshake = new Handshake(Connection.Request, auth);
        var ns = _server.Resolve(name, handshake);
        if (ns is null)
        {
            SocketIOLog.InvalidNamespace(Logger, Connection.Id, name);
            ConnectFailed(name);
            Send(SocketIOPacketEncoder.EncodeConnectError(name, "Invalid namespace", null, _server.JsonOptions), isVolatile: false);
            return;
        }

        var adding = ns.AddSocketAsync(this, handshake);
        if (!adding.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(adding, name);
        }
    }

    private async Task ObserveAsync(Task adding, string name)
    {
        try
        {
            await adding.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.AdapterError(Logger, name, ex);
            ConnectFailed(name);
        }
    }

    private void OnConnectTimeout()
    {
        bool close;
        lock (_lock)
        {
            close = !_closed && _sockets.Count == 0;
        }

        DisposeTimer();
        if (close)
        {
            SocketIOLog.ConnectTimeout(Logger, Connection.Id);
            Connection.Close();
        }
    }

    private void DisposeTimer() => Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
}
