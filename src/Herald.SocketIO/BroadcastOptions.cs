using Herald.EngineIO;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

/// <summary>Modifiers of a broadcast or an emit (immutable).</summary>
public readonly record struct BroadcastFlags
{
    /// <summary>Drop the packet for clients whose transport is not writable right now.</summary>
    public bool Volatile { get; init; }

    /// <summary>Only this server's clients (no cluster forwarding).</summary>
    public bool Local { get; init; }

    /// <summary>Whether the transport may compress the packet (carried to the transport; on by default).</summary>
    public bool Compress { get; init; }

    /// <summary>How long acknowledgements are awaited; null waits until the sockets answer or disconnect.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The defaults: not volatile, not local, compressed, no timeout.</summary>
    public static BroadcastFlags Default => new() { Compress = true };
}

/// <summary>Who a broadcast targets: the union of <see cref="Rooms"/> (every socket when empty) minus the members of <see cref="Except"/>.</summary>
public sealed class BroadcastOptions
{
    /// <summary>Creates the options.</summary>
    public BroadcastOptions(IReadOnlyList<string> rooms, IReadOnlyList<string> except, BroadcastFlags flags)
    {
        Rooms = rooms;
        Except = except;
        Flags = flags;
    }

    /// <summary>Target rooms (distinct); empty: all sockets of the namespace.</summary>
    public IReadOnlyList<string> Rooms { get; }

    /// <summary>Excluded rooms (distinct); a socket in any of them is skipped.</summary>
    public IReadOnlyList<string> Except { get; }

    /// <summary>The flags.</summary>
    public BroadcastFlags Flags { get; }
}

/// <summary>
/// An event to broadcast, encoded once: the same <see cref="EngineMessage"/> instances are sent to every
/// target, so a transport can cache a derived frame in <see cref="EngineMessage.TransportCache"/>. The encoding
/// happens on first use of <see cref="Messages"/>, so that an adapter with connection-state recovery can first
/// stamp the packet with its offset (the last argument) and still encode it only once.
/// </summary>
public sealed class BroadcastPacket
{
    private readonly System.Text.Json.JsonSerializerOptions? _options;
    private EngineMessage[]? _messages;

    /// <summary>Encodes <c>[eventName, ...args]</c> for <paramref name="ns"/> (with ack id <paramref name="id"/>, -1 for none).</summary>
    public BroadcastPacket(string ns, string eventName, object?[] args, long id, System.Text.Json.JsonSerializerOptions options)
    {
        Namespace = ns;
        EventName = eventName;
        Args = args;
        Id = id;
        _options = options;
    }

    /// <summary>Wraps a packet that was encoded elsewhere (received from another node).</summary>
    public BroadcastPacket(string ns, EncodedSocketIOPacket encoded, long id = -1)
    {
        Namespace = ns;
        EventName = null;
        Args = [];
        Id = id;
        _messages = ToMessages(encoded);
    }

    /// <summary>The namespace the packet was encoded for.</summary>
    public string Namespace { get; }

    /// <summary>The event name, when the packet was built from arguments.</summary>
    public string? EventName { get; }

    /// <summary>The original arguments (for outgoing listeners); empty for a packet encoded elsewhere. Never includes the offset.</summary>
    public IReadOnlyList<object?> Args { get; }

    /// <summary>The ack id, -1 for none.</summary>
    public long Id { get; }

    /// <summary>
    /// The connection-state recovery offset appended as the last argument on the wire (socket.io's
    /// <c>packet.data.push(offset)</c>), or null when the packet is not recoverable.
    /// </summary>
    public string? Offset { get; private set; }

    /// <summary>The text message followed by the attachments.</summary>
    public EngineMessage[] Messages => System.Threading.Volatile.Read(ref _messages) ?? Encode();

    /// <summary>
    /// The position of this packet in the namespace's recovery log, set by the <see cref="ISessionAwareAdapter"/> that
    /// logs it (a restoring socket drops a live delivery the replay already sent); -1 when not logged.
    /// </summary>
    public long LogSequence { get; set; } = -1;

    /// <summary>True when the packet was built from arguments and not encoded yet, so an offset can still be added.</summary>
    public bool CanStamp => EventName is not null && _options is not null && System.Threading.Volatile.Read(ref _messages) is null && Offset is null;

    /// <summary>The same event encoded for another namespace (dynamic namespace fan-out).</summary>
    public BroadcastPacket ForNamespace(string ns)
    {
        if (ns == Namespace || EventName is null || _options is null)
        {
            return this;
        }

        return new BroadcastPacket(ns, EventName, (object?[])Args, Id, _options);
    }

    /// <summary>
    /// Gives the packet its recovery offset, appended as its last argument when it is encoded (socket.io's
    /// <c>packet.data.push(offset)</c>). Only while <see cref="CanStamp"/>.
    /// </summary>
    /// <param name="offset">An offset unique in the namespace.</param>
    /// <exception cref="InvalidOperationException">The packet cannot be stamped (already encoded, stamped, or built elsewhere).</exception>
    public void Stamp(string offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(offset);
        if (!CanStamp)
        {
            throw new InvalidOperationException("Only a packet built from arguments and not encoded yet can be stamped.");
        }

        Offset = offset;
    }

    /// <summary>Whether connection-state recovery logs this packet sent with <paramref name="options"/>: an event without ack that is not volatile (socket.io's rule).</summary>
    /// <param name="options">The broadcast's options.</param>
    /// <returns>True when it is to be logged.</returns>
    public bool IsRecoverable(BroadcastOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Id < 0 && !options.Flags.Volatile && EventName is not null;
    }

    /// <summary>Wraps a packet received from another node that carries an offset already (inside its bytes).</summary>
    internal static BroadcastPacket Received(string ns, EncodedSocketIOPacket encoded, string? offset)
        => new(ns, encoded) { Offset = offset };

    internal static EngineMessage[] ToMessages(EncodedSocketIOPacket encoded)
    {
        var messages = new EngineMessage[1 + encoded.Attachments.Length];
        messages[0] = EngineMessage.FromTextPacket(encoded.Text);
        for (var i = 0; i < encoded.Attachments.Length; i++)
        {
            messages[i + 1] = EngineMessage.FromBinary(encoded.Attachments[i]);
        }

        return messages;
    }

    private EngineMessage[] Encode()
    {
        var args = (object?[])Args;
        if (Offset is { } offset)
        {
            var withOffset = new object?[args.Length + 1];
            args.CopyTo(withOffset, 0);
            withOffset[^1] = offset;
            args = withOffset;
        }

        var messages = ToMessages(SocketIOPacketEncoder.EncodeEvent(Namespace, EventName!, args, Id, _options!));

        // Two threads may race to the first encoding: both produce the same bytes, the first one wins so every
        // target gets the same instances (and the transport's per-message frame cache).
        return Interlocked.CompareExchange(ref _messages, messages, null) ?? messages;
    }
}
