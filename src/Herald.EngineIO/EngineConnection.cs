using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>
/// One Engine.IO session (a client that completed the handshake), whatever transport it currently uses.
/// This is what the Engine.IO layer hands up to the layer above it (Socket.IO): the upper layer sets
/// <see cref="Listener"/> inside <see cref="IEngineConnectionHandler.OnOpen"/>, then sends with
/// <see cref="Send(EngineMessage)"/>. The Engine.IO layer knows nothing of namespaces.
/// </summary>
/// <remarks>
/// Threading contract: <see cref="IEngineConnectionListener.OnMessage"/> is called sequentially for one
/// connection (never concurrently with itself) from the transport's receive loop; the listener must not
/// block it. <see cref="Send(EngineMessage)"/> may be called from any thread, concurrently; messages are
/// written in the order their <c>Send</c> calls were made.
/// </remarks>
public abstract class EngineConnection
{
    /// <summary>The session id (<c>sid</c>), 20 url-safe characters from a cryptographic source.</summary>
    public abstract string Id { get; }

    /// <summary>The current transport name: <c>polling</c> or <c>websocket</c>.</summary>
    public abstract string TransportName { get; }

    /// <summary>What the opening HTTP request carried (headers, query, address, user).</summary>
    public abstract EngineRequestInfo Request { get; }

    /// <summary>
    /// The headers of the latest HTTP request of this session (a copy, safe to keep): during
    /// <see cref="IEngineConnectionListener.OnMessage"/> for a packet that came in a long-polling POST, that POST's
    /// headers; over WebSocket, the headers of the request that opened or upgraded to the WebSocket. Starts as
    /// <see cref="EngineRequestInfo.Headers"/> of <see cref="Request"/> (the opening request).
    /// </summary>
    public virtual IHeaderDictionary CurrentRequestHeaders => Request.Headers;

    /// <summary>True until the session is closed.</summary>
    public abstract bool IsConnected { get; }

    /// <summary>
    /// False when a message sent now would have to wait (the transport is busy flushing or the client is
    /// not reading); volatile messages are dropped when this is false.
    /// </summary>
    public abstract bool IsWritable { get; }

    /// <summary>The layer above, receiving messages and the close notification.</summary>
    public IEngineConnectionListener? Listener { get; set; }

    /// <summary>
    /// Queues one message packet; never blocks. Returns false when the session is closed. When the queue would
    /// go over its bound (<see cref="EngineIOOptions.MaxOutboundQueue"/>, <see cref="EngineIOOptions.MaxOutboundBytes"/>)
    /// the client is too slow: the message is refused and the session closes (<c>transport error</c>).
    /// </summary>
    public abstract bool Send(EngineMessage message);

    /// <summary>
    /// Queues several message packets that must go out together and in order (a Socket.IO packet and its
    /// binary attachments). Never blocks. Returns false when the session is closed or the client is too slow
    /// (see <see cref="Send(EngineMessage)"/>).
    /// </summary>
    public abstract bool Send(ReadOnlySpan<EngineMessage> messages);

    /// <summary>
    /// Queues a volatile message (Socket.IO's <c>volatile</c> flag): sent only if the connection is
    /// <see cref="IsWritable"/> now, else dropped (and counted). A queued volatile message is also the first
    /// thing dropped when the queue fills. Returns false when it was dropped.
    /// </summary>
    public virtual bool SendVolatile(EngineMessage message) => IsWritable && Send(message);

    /// <summary>The volatile form of <see cref="Send(ReadOnlySpan{EngineMessage})"/> (a packet and its attachments, all or none).</summary>
    public virtual bool SendVolatile(ReadOnlySpan<EngineMessage> messages) => IsWritable && Send(messages);

    /// <summary>Closes the session after flushing what is queued; the listener sees the reason <c>forced close</c>.</summary>
    public abstract void Close();
}

/// <summary>Receives what an <see cref="EngineConnection"/> reads, and its end.</summary>
public interface IEngineConnectionListener
{
    /// <summary>
    /// One Engine.IO <c>message</c> packet. For text, <paramref name="data"/> is the UTF-8 data without the
    /// packet type (<c>4</c>); for binary it is the raw bytes. The span is only valid during the call.
    /// </summary>
    void OnMessage(EngineConnection connection, ReadOnlySpan<byte> data, bool isBinary);

    /// <summary>
    /// The session ended. <paramref name="reason"/> is one of Engine.IO's close reasons:
    /// <c>transport close</c>, <c>transport error</c>, <c>ping timeout</c>, <c>parse error</c>,
    /// <c>forced close</c>, <c>server shutting down</c>. Called exactly once.
    /// </summary>
    void OnClose(EngineConnection connection, string reason, Exception? error);
}

/// <summary>Accepts new Engine.IO sessions; implemented by the Socket.IO layer (or the echo server of the conformance tests).</summary>
public interface IEngineConnectionHandler
{
    /// <summary>Called once the handshake (<c>open</c> packet) was sent. Set <see cref="EngineConnection.Listener"/> here.</summary>
    void OnOpen(EngineConnection connection);
}

/// <summary>
/// An outgoing Engine.IO <c>message</c> packet, encoded once and shareable between any number of
/// connections (a broadcast builds one and sends the same instance to every target).
/// </summary>
public sealed class EngineMessage
{
    private EngineMessage(ReadOnlyMemory<byte> payload, bool isBinary)
    {
        Payload = payload;
        IsBinary = isBinary;
    }

    /// <summary>
    /// For text: the complete Engine.IO packet in UTF-8, type included (starts with <c>'4'</c>), so a
    /// WebSocket text frame carries exactly these bytes. For binary: the raw bytes.
    /// </summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>True for a binary message.</summary>
    public bool IsBinary { get; }

    /// <summary>
    /// A slot for a transport to cache a derived encoding of this message (for example a pre-framed
    /// WebSocket frame or the base64 polling form), built once and reused for every connection.
    /// </summary>
    public object? TransportCache { get; set; }

    /// <summary>A text message from its UTF-8 data <b>including</b> the leading <c>'4'</c>.</summary>
    public static EngineMessage FromTextPacket(ReadOnlyMemory<byte> packetWithType)
    {
        if (packetWithType.Length == 0 || packetWithType.Span[0] != (byte)'4')
        {
            throw new ArgumentException("A text message packet starts with '4'.", nameof(packetWithType));
        }

        return new EngineMessage(packetWithType, isBinary: false);
    }

    /// <summary>A text message from its data (without the type); allocates the prefixed copy.</summary>
    public static EngineMessage FromText(ReadOnlySpan<byte> utf8Data)
    {
        var buffer = new byte[utf8Data.Length + 1];
        buffer[0] = (byte)'4';
        utf8Data.CopyTo(buffer.AsSpan(1));
        return new EngineMessage(buffer, isBinary: false);
    }

    /// <summary>A binary message.</summary>
    public static EngineMessage FromBinary(ReadOnlyMemory<byte> data) => new(data, isBinary: true);
}
