using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Herald.Protocol.SocketIO;

/// <summary>What one call to <see cref="SocketIODecoder.Decode(ReadOnlySpan{byte}, bool, out SocketIOPacket?, out string?)"/> produced.</summary>
public enum SocketIODecodeStatus
{
    /// <summary>A complete packet is in the <c>packet</c> out parameter.</summary>
    Packet,

    /// <summary>A binary packet is waiting for more attachments; nothing to do yet.</summary>
    NeedAttachments,

    /// <summary>The input violates the protocol; the connection must be closed.</summary>
    Error,
}

/// <summary>
/// Decodes the Engine.IO messages of one connection into Socket.IO packets: text messages are packets,
/// binary messages are the attachments of the preceding binary packet. Validation is strict (unknown type,
/// bad attachment count, invalid JSON, a payload of the wrong shape, a placeholder pointing past the
/// attachments, text while attachments are expected or binary when none are): every violation is an
/// <see cref="SocketIODecodeStatus.Error"/> after which the connection is closed. Not thread-safe: one
/// decoder per connection, fed sequentially.
/// </summary>
public sealed class SocketIODecoder : IDisposable
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private readonly int _maxAttachments;
    private SocketIOPacket? _pending;
    private byte[]? _lastNamespaceBytes;
    private string? _lastNamespace;

    /// <summary>Creates a decoder accepting at most <paramref name="maxAttachments"/> attachments per packet.</summary>
    public SocketIODecoder(int maxAttachments = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAttachments);
        _maxAttachments = maxAttachments;
    }

    /// <summary>True while a binary packet waits for its attachments.</summary>
    public bool IsReconstructing => _pending is not null;

    /// <summary>Feeds one Engine.IO message (text: the Socket.IO packet without the Engine.IO type; binary: an attachment).</summary>
    public SocketIODecodeStatus Decode(ReadOnlySpan<byte> data, bool isBinary, out SocketIOPacket? packet, out string? error)
    {
        if (isBinary)
        {
            return AddAttachment(data, out packet, out error);
        }

        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        data.CopyTo(rented);
        return DecodeText(rented, data.Length, out packet, out error);
    }

    /// <summary>Feeds one Engine.IO message held in a (possibly multi-segment) sequence.</summary>
    public SocketIODecodeStatus Decode(in ReadOnlySequence<byte> data, bool isBinary, out SocketIOPacket? packet, out string? error)
    {
        if (data.IsSingleSegment)
        {
            return Decode(data.FirstSpan, isBinary, out packet, out error);
        }

        if (data.Length > int.MaxValue)
        {
            packet = null;
            error = "packet too large";
            return Fail();
        }

        var length = (int)data.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        data.CopyTo(rented);
        if (isBinary)
        {
            try
            {
                return AddAttachment(rented.AsSpan(0, length), out packet, out error);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return DecodeText(rented, length, out packet, out error);
    }

    /// <summary>Drops a partially received binary packet.</summary>
    public void Dispose()
    {
        _pending?.Dispose();
        _pending = null;
    }

    private SocketIODecodeStatus AddAttachment(ReadOnlySpan<byte> data, out SocketIOPacket? packet, out string? error)
    {
        packet = null;
        if (_pending is null)
        {
            error = "got binary data when not reconstructing a packet";
            return Fail();
        }

        // The attachment outlives this call (handlers may keep the byte[]), so it is copied exactly once.
        _pending.AddAttachment(data.ToArray());
        error = null;
        if (!_pending.IsComplete)
        {
            return SocketIODecodeStatus.NeedAttachments;
        }

        packet = _pending;
        _pending = null;
        return SocketIODecodeStatus.Packet;
    }

    private SocketIODecodeStatus DecodeText(byte[] rented, int length, out SocketIOPacket? packet, out string? error)
    {
        packet = null;
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
            error = "got plaintext data when reconstructing a packet";
            return Fail();
        }

        var span = rented.AsSpan(0, length);

        // JsonDocument only checks the UTF-8 of a string when it is read: without this a text packet arriving over
        // polling (WebSocket text frames are validated by the transport) would parse, then throw in a handler's GetString.
        if (!System.Text.Unicode.Utf8.IsValid(span))
        {
            ArrayPool<byte>.Shared.Return(rented);
            error = "invalid UTF-8";
            return Fail();
        }

        if (!SocketIOPacketParser.TryParseHeader(span, _maxAttachments, out var header, out error))
        {
            ArrayPool<byte>.Shared.Return(rented);
            return Fail();
        }

        string ns;
        if (header.NamespaceLength == 0)
        {
            ns = "/";
        }
        else if (!TryGetNamespace(span.Slice(header.NamespaceStart, header.NamespaceLength), out ns))
        {
            ArrayPool<byte>.Shared.Return(rented);
            error = "invalid namespace encoding";
            return Fail();
        }

        JsonDocument? document = null;
        if (header.PayloadStart < length)
        {
            try
            {
                document = JsonDocument.Parse(rented.AsMemory(header.PayloadStart, length - header.PayloadStart), DocumentOptions);
            }
            catch (JsonException)
            {
                ArrayPool<byte>.Shared.Return(rented);
                error = "invalid payload";
                return Fail();
            }
        }

        var result = new SocketIOPacket(header.Type, ns, header.Id, document, rented, header.AttachmentCount);
        bool valid;
        try
        {
            valid = IsPayloadValid(result, out error);
        }
        catch (InvalidOperationException)
        {
            // A name with a lone surrogate escape ("\ud800") cannot be compared or read as a string (found by fuzzing).
            valid = false;
            error = "invalid payload";
        }

        if (!valid)
        {
            result.Dispose();
            return Fail();
        }

        if (header.AttachmentCount > 0)
        {
            _pending = result;
            return SocketIODecodeStatus.NeedAttachments;
        }

        packet = result;
        return SocketIODecodeStatus.Packet;
    }

    private static bool IsPayloadValid(SocketIOPacket packet, out string? error)
    {
        var hasPayload = packet.Payload is not null;
        var root = packet.Data;
        error = "invalid payload";
        switch (packet.Type)
        {
            case SocketIOPacketType.Connect:
                return !packet.HasId && (!hasPayload || root.ValueKind == JsonValueKind.Object);
            case SocketIOPacketType.Disconnect:
                return !packet.HasId && !hasPayload;
            case SocketIOPacketType.ConnectError:
                return !packet.HasId && hasPayload && root.ValueKind is JsonValueKind.Object or JsonValueKind.String;
            case SocketIOPacketType.Event:
            case SocketIOPacketType.BinaryEvent:
                if (!hasPayload || root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
                {
                    return false;
                }

                var name = root[0];
                if (name.ValueKind == JsonValueKind.String)
                {
                    if (IsReserved(name))
                    {
                        error = "reserved event name";
                        return false;
                    }

                    // An escaped name may hold a lone surrogate ("\ud800"), which no .NET string can: reading it here
                    // throws, and the caller turns that into a decode error instead of a throw in the Socket.IO layer.
                    if (System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(name).Contains((byte)'\\'))
                    {
                        _ = name.GetString();
                    }
                }
                else if (name.ValueKind != JsonValueKind.Number)
                {
                    return false;
                }

                break;
            case SocketIOPacketType.Ack:
            case SocketIOPacketType.BinaryAck:
                if (!packet.HasId)
                {
                    error = "ack without id";
                    return false;
                }

                if (!hasPayload || root.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                break;
        }

        if (packet.AttachmentCount > 0 && !PlaceholdersInRange(root, packet.AttachmentCount, 0))
        {
            error = "illegal attachments";
            return false;
        }

        error = null;
        return true;
    }

    private static bool IsReserved(JsonElement name) =>
        name.ValueEquals("connect"u8) || name.ValueEquals("connect_error"u8) || name.ValueEquals("disconnect"u8)
        || name.ValueEquals("disconnecting"u8) || name.ValueEquals("newListener"u8) || name.ValueEquals("removeListener"u8);

    /// <summary>Every <c>{"_placeholder":true,"num":n}</c> must point at an announced attachment.</summary>
    private static bool PlaceholdersInRange(JsonElement element, int count, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!PlaceholdersInRange(item, count, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                if (element.TryGetProperty("_placeholder"u8, out var flag) && flag.ValueKind == JsonValueKind.True)
                {
                    return element.TryGetProperty("num"u8, out var num) && num.ValueKind == JsonValueKind.Number && num.TryGetInt32(out var n) && n >= 0 && n < count;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (!PlaceholdersInRange(property.Value, count, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    private bool TryGetNamespace(ReadOnlySpan<byte> bytes, out string ns)
    {
        // Most connections use one or two namespaces: keep the last one to avoid a string per packet.
        if (_lastNamespace is not null && bytes.SequenceEqual(_lastNamespaceBytes))
        {
            ns = _lastNamespace;
            return true;
        }

        try
        {
            ns = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            ns = string.Empty;
            return false;
        }

        _lastNamespaceBytes = bytes.ToArray();
        _lastNamespace = ns;
        return true;
    }

    private SocketIODecodeStatus Fail()
    {
        Dispose();
        return SocketIODecodeStatus.Error;
    }
}
