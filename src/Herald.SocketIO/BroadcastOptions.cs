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
/// target, so a transport can cache a derived frame in <see cref="EngineMessage.TransportCache"/>.
/// </summary>
public sealed class BroadcastPacket
{
    private readonly System.Text.Json.JsonSerializerOptions? _options;

    /// <summary>Encodes <c>[eventName, ...args]</c> for <paramref name="ns"/> (with ack id <paramref name="id"/>, -1 for none).</summary>
    public BroadcastPacket(string ns, string eventName, object?[] args, long id, System.Text.Json.JsonSerializerOptions options)
    {
        Namespace = ns;
        EventName = eventName;
        Args = args;
        Id = id;
        _options = options;
        var encoded = SocketIOPacketEncoder.EncodeEvent(ns, eventName, args, id, options);
        Messages = ToMessages(encoded);
    }

    /// <summary>Wraps a packet that was encoded elsewhere (received from another node).</summary>
    public BroadcastPacket(string ns, EncodedSocketIOPacket encoded, long id = -1)
    {
        Namespace = ns;
        EventName = null;
        Args = [];
        Id = id;
        Messages = ToMessages(encoded);
    }

    /// <summary>The namespace the packet was encoded for.</summary>
    public string Namespace { get; }

    /// <summary>The event name, when the packet was built from arguments.</summary>
    public string? EventName { get; }

    /// <summary>The original arguments (for outgoing listeners); empty for a packet encoded elsewhere.</summary>
    public IReadOnlyList<object?> Args { get; }

    /// <summary>The ack id, -1 for none.</summary>
    public long Id { get; }

    /// <summary>The text message followed by the attachments.</summary>
    public EngineMessage[] Messages { get; }

    /// <summary>The same event encoded for another namespace (dynamic namespace fan-out).</summary>
    public BroadcastPacket ForNamespace(string ns)
    {
        if (ns == Namespace || EventName is null || _options is null)
        {
            return this;
        }

        return new BroadcastPacket(ns, EventName, (object?[])Args, Id, _options);
    }

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
}
