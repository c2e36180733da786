namespace Herald.Protocol.SocketIO;

/// <summary>The fixed part of an encoded Socket.IO packet, before its JSON payload.</summary>
public readonly struct SocketIOPacketHeader
{
    internal SocketIOPacketHeader(SocketIOPacketType type, int attachments, int nsStart, int nsLength, long id, int payloadStart)
    {
        Type = type;
        AttachmentCount = attachments;
        NamespaceStart = nsStart;
        NamespaceLength = nsLength;
        Id = id;
        PayloadStart = payloadStart;
    }

    /// <summary>The packet type.</summary>
    public SocketIOPacketType Type { get; }

    /// <summary>The announced number of binary attachments (binary types only).</summary>
    public int AttachmentCount { get; }

    /// <summary>Offset of the namespace in the packet (0 length: the main namespace).</summary>
    public int NamespaceStart { get; }

    /// <summary>Length of the namespace, 0 for the main namespace <c>/</c> when the packet named none.</summary>
    public int NamespaceLength { get; }

    /// <summary>The ack id, -1 when absent.</summary>
    public long Id { get; }

    /// <summary>Offset of the JSON payload (equal to the packet length when there is none).</summary>
    public int PayloadStart { get; }
}

/// <summary>
/// Parses the header of a Socket.IO v5 packet in its text form:
/// <c>&lt;type&gt;[&lt;attachments&gt;-][&lt;namespace&gt;,][&lt;ack id&gt;][&lt;JSON payload&gt;]</c>,
/// for example <c>2["hello",1]</c>, <c>3/admin,13["bar"]</c>, <c>51-["baz",{"_placeholder":true,"num":0}]</c>.
/// The namespace starts with <c>/</c> and runs to the first comma (or the end: <c>1/admin</c> is accepted,
/// as the reference parser does); the id is a run of digits.
/// </summary>
public static class SocketIOPacketParser
{
    /// <summary>Digits accepted in an ack id: ids stay exact in a JavaScript number and in a long.</summary>
    private const int MaxIdDigits = 15;

    /// <summary>Parses the header; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> packet, int maxAttachments, out SocketIOPacketHeader header, out string? error)
    {
        header = default;
        if (packet.IsEmpty)
        {
            error = "empty packet";
            return false;
        }

        var typeDigit = packet[0] - (byte)'0';
        if ((uint)typeDigit > (uint)SocketIOPacketType.BinaryAck)
        {
            error = "unknown packet type";
            return false;
        }

        var type = (SocketIOPacketType)typeDigit;
        var i = 1;
        var attachments = 0;
        if (type is SocketIOPacketType.BinaryEvent or SocketIOPacketType.BinaryAck)
        {
            var start = i;
            long n = 0;
            while (i < packet.Length && IsDigit(packet[i]))
            {
                n = (n * 10) + (packet[i] - (byte)'0');
                i++;
                if (n > maxAttachments)
                {
                    error = "too many attachments";
                    return false;
                }
            }

            if (i == start || i >= packet.Length || packet[i] != (byte)'-')
            {
                error = "illegal attachments";
                return false;
            }

            attachments = (int)n;
            i++;
        }

        var nsStart = i;
        var nsLength = 0;
        if (i < packet.Length && packet[i] == (byte)'/')
        {
            var comma = packet[i..].IndexOf((byte)',');
            nsLength = comma < 0 ? packet.Length - i : comma;
            i += nsLength;
            if (i < packet.Length)
            {
                i++; // the comma
            }
        }

        long id = -1;
        if (i < packet.Length && IsDigit(packet[i]))
        {
            var start = i;
            id = 0;
            while (i < packet.Length && IsDigit(packet[i]))
            {
                if (i - start == MaxIdDigits)
                {
                    error = "invalid ack id";
                    return false;
                }

                id = (id * 10) + (packet[i] - (byte)'0');
                i++;
            }
        }

        header = new SocketIOPacketHeader(type, attachments, nsStart, nsLength, id, i);
        error = null;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
