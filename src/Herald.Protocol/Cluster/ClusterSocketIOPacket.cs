using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Herald.Protocol.SocketIO;

namespace Herald.Protocol.Cluster;

/// <summary>
/// Converts between an encoded Socket.IO event (what the server writes to clients:
/// <c>4&lt;type&gt;[&lt;n&gt;-][&lt;nsp&gt;,][&lt;id&gt;]["ev",...]</c>) and the <c>packet</c> member of a cluster envelope
/// (<c>{"type":2,"data":["ev",...]}</c>), so a broadcast is encoded once by its publisher, carried as JSON
/// that any language can write, and turned back into the client bytes once per receiving node.
/// </summary>
public static class ClusterSocketIOPacket
{
    /// <summary>The largest ack id a node may put in a rebuilt packet header.</summary>
    private const int MaxHeaderNumbers = 40;

    /// <summary>
    /// The envelope <c>packet</c> <c>{"type":2,"data":[...]}</c> of an encoded event (text with or without the
    /// Engine.IO <c>4</c>, as produced by <see cref="SocketIOPacketEncoder.EncodeEvent"/>). The ack id and the
    /// namespace of the header are dropped: the envelope carries the namespace, and each node numbers acks itself.
    /// </summary>
    /// <param name="text">The encoded event's text part.</param>
    /// <param name="ns">The namespace it was encoded for.</param>
    /// <param name="enginePrefix">Whether <paramref name="text"/> starts with the Engine.IO <c>4</c>.</param>
    /// <returns>The JSON bytes.</returns>
    public static byte[] ToEnvelopePacket(ReadOnlySpan<byte> text, string ns, bool enginePrefix = true)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var start = enginePrefix ? 1 : 0;
        var type = text[start] - '0';
        var payload = text[HeaderLength(text, start, ns)..];
        ReadOnlySpan<byte> open = type == (int)SocketIOPacketType.BinaryEvent ? "{\"type\":5,\"data\":"u8 : "{\"type\":2,\"data\":"u8;
        var result = new byte[open.Length + payload.Length + 1];
        open.CopyTo(result);
        payload.CopyTo(result.AsSpan(open.Length));
        result[^1] = (byte)'}';
        return result;
    }

    /// <summary>
    /// The client bytes (Engine.IO <c>4</c> included) of an envelope <c>packet</c>: <c>type</c> 2 (EVENT) or 5
    /// (BINARY_EVENT; absent means 2) and <c>data</c>, a JSON array whose first element is the event name.
    /// With attachments the packet becomes a BINARY_EVENT announcing their number.
    /// </summary>
    /// <param name="packet">The envelope's packet JSON.</param>
    /// <param name="ns">The namespace to address.</param>
    /// <param name="attachmentCount">The number of attachments that follow.</param>
    /// <param name="id">The ack id, -1 for none.</param>
    /// <param name="text">The result.</param>
    /// <param name="error">Why the packet cannot be delivered.</param>
    /// <returns>True when <paramref name="packet"/> is a deliverable event.</returns>
    public static bool TryToSocketIOText(ReadOnlySpan<byte> packet, string ns, int attachmentCount, long id,
        [NotNullWhen(true)] out byte[]? text, [NotNullWhen(false)] out string? error)
        => TryToSocketIOText(packet, ns, attachmentCount, id, null, out text, out error);

    /// <summary>
    /// As <see cref="TryToSocketIOText(ReadOnlySpan{byte}, string, int, long, out byte[], out string)"/>, with
    /// <paramref name="lastArgument"/> appended to the event's arguments as a JSON string (the connection-state
    /// recovery offset a node gives a publication that arrived without one in its arguments).
    /// </summary>
    /// <param name="packet">The envelope's packet JSON.</param>
    /// <param name="ns">The namespace to address.</param>
    /// <param name="attachmentCount">The number of attachments that follow.</param>
    /// <param name="id">The ack id, -1 for none.</param>
    /// <param name="lastArgument">A string to append as the last argument, or null.</param>
    /// <param name="text">The result.</param>
    /// <param name="error">Why the packet cannot be delivered.</param>
    /// <returns>True when <paramref name="packet"/> is a deliverable event.</returns>
    public static bool TryToSocketIOText(ReadOnlySpan<byte> packet, string ns, int attachmentCount, long id, string? lastArgument,
        [NotNullWhen(true)] out byte[]? text, [NotNullWhen(false)] out string? error)
    {
        text = null;
        if (packet.IsEmpty)
        {
            error = "the envelope has no packet";
            return false;
        }

        var type = (int)SocketIOPacketType.Event;
        ReadOnlySpan<byte> data = default;
        try
        {
            var reader = new Utf8JsonReader(packet, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "a packet is a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        error = "packet.data is an array starting with the event name";
                        return false;
                    }

                    reader.Skip();
                    data = packet[start..(int)reader.BytesConsumed];
                    var first = new Utf8JsonReader(data);
                    if (!first.Read() || !first.Read() || first.TokenType != JsonTokenType.String)
                    {
                        error = "packet.data is an array starting with the event name";
                        return false;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            error = "malformed packet: " + e.Message;
            return false;
        }

        if (type is not ((int)SocketIOPacketType.Event or (int)SocketIOPacketType.BinaryEvent))
        {
            error = $"packet.type {type} is not an event (2) or binary event (5)";
            return false;
        }

        if (data.IsEmpty)
        {
            error = "the packet has no data";
            return false;
        }

        text = BuildText(data, ns, attachmentCount, id, lastArgument is null ? default : JsonEncodedText.Encode(lastArgument).EncodedUtf8Bytes);
        error = null;
        return true;
    }

    private static byte[] BuildText(ReadOnlySpan<byte> data, string ns, int attachmentCount, long id, ReadOnlySpan<byte> appended)
    {
        Span<byte> numbers = stackalloc byte[MaxHeaderNumbers];
        var countLength = 0;
        if (attachmentCount > 0)
        {
            attachmentCount.TryFormat(numbers, out countLength);
        }

        var idLength = 0;
        if (id >= 0)
        {
            id.TryFormat(numbers[20..], out idLength);
        }

        var main = ns.Length == 0 || ns == "/";
        var nsLength = main ? 0 : Encoding.UTF8.GetByteCount(ns) + 1;
        // data ends with the array's ']' and holds at least the event name: an appended argument goes before it.
        var appendLength = appended.IsEmpty ? 0 : appended.Length + 3;
        var result = new byte[2 + (countLength > 0 ? countLength + 1 : 0) + nsLength + idLength + data.Length + appendLength];
        var span = result.AsSpan();
        span[0] = SocketIOPacketEncoder.EngineMessagePrefix;
        span[1] = (byte)('0' + (int)(attachmentCount > 0 ? SocketIOPacketType.BinaryEvent : SocketIOPacketType.Event));
        var pos = 2;
        if (countLength > 0)
        {
            numbers[..countLength].CopyTo(span[pos..]);
            pos += countLength;
            span[pos++] = (byte)'-';
        }

        if (!main)
        {
            pos += Encoding.UTF8.GetBytes(ns, span[pos..]);
            span[pos++] = (byte)',';
        }

        numbers.Slice(20, idLength).CopyTo(span[pos..]);
        pos += idLength;
        if (appendLength == 0)
        {
            data.CopyTo(span[pos..]);
            return result;
        }

        data[..^1].CopyTo(span[pos..]);
        pos += data.Length - 1;
        span[pos++] = (byte)',';
        span[pos++] = (byte)'"';
        appended.CopyTo(span[pos..]);
        pos += appended.Length;
        span[pos++] = (byte)'"';
        span[pos] = (byte)']';
        return result;
    }

    // 1 (type) + "<n>-" + "<nsp>," + "<id>": everything before the JSON array.
    private static int HeaderLength(ReadOnlySpan<byte> text, int start, string ns)
    {
        var pos = start + 1;
        if (text[start] - '0' is (int)SocketIOPacketType.BinaryEvent or (int)SocketIOPacketType.BinaryAck)
        {
            pos += text[pos..].IndexOf((byte)'-') + 1;
        }

        if (ns.Length > 0 && ns != "/")
        {
            pos += Encoding.UTF8.GetByteCount(ns) + 1;
        }

        while (pos < text.Length && text[pos] is >= (byte)'0' and <= (byte)'9')
        {
            pos++;
        }

        return pos;
    }

    /// <summary>Copies <paramref name="attachments"/> to a new array (the envelope keeps its own memory).</summary>
    /// <param name="attachments">The attachments.</param>
    /// <returns>The array.</returns>
    public static ReadOnlyMemory<byte>[] ToArray(IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        ArgumentNullException.ThrowIfNull(attachments);
        if (attachments.Count == 0)
        {
            return [];
        }

        var result = new ReadOnlyMemory<byte>[attachments.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = attachments[i];
        }

        return result;
    }
}
