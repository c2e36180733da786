using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Herald.SocketIO.Internal;

/// <summary>
/// The wire format of <c>socket.io-msgpack-parser</c> (npm 3.0.x, MessagePack by <c>notepack.io</c>): every Socket.IO
/// packet is ONE binary Engine.IO message, the MessagePack map <c>{type, data, nsp, id?}</c> with types 0 CONNECT,
/// 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR and binary values inline (<c>bin</c>, or <c>ext</c> type 0 for an
/// <c>ArrayBuffer</c>). Herald keeps one Socket.IO pipeline (text packet plus attachments), so this transcodes at the
/// connection's edge: a received map becomes the text packet and its attachments (then decoded and validated as
/// usual, <see cref="SocketIOOptions.MaxAttachments"/> included); a text packet and its attachments to send become the
/// map. A small reader/writer of its own: only the MessagePack the JSON data model needs (plus bin, ext, undefined and
/// notepack's Date).
/// </summary>
internal static class MsgPackTranscoder
{
    private const int MaxDepth = 64;

    // ------------------------------------------------------------------------------------------------------------
    // MessagePack -> Socket.IO text packet + attachments

    /// <summary>
    /// Transcodes one received MessagePack packet. Returns null and an error for anything the reference decoder refuses
    /// (not a map, bad type, namespace, data or id) or that is not MessagePack.
    /// </summary>
    public static (byte[] Text, List<byte[]> Attachments)? Decode(ReadOnlySpan<byte> packet, int maxAttachments, out string? error)
    {
        error = null;
        var reader = new Reader(packet);
        var attachments = new List<byte[]>();
        try
        {
            var entries = reader.ReadMapHeader();
            long? type = null;
            long? id = null;
            string? nsp = null;
            byte[]? data = null;
            var dataKind = JsonValueKind.Undefined;
            for (var i = 0; i < entries; i++)
            {
                var key = reader.ReadString();
                switch (key)
                {
                    case "type":
                        type = reader.ReadInteger();
                        break;
                    case "nsp":
                        nsp = reader.ReadString();
                        break;
                    case "id":
                        id = reader.TryReadUndefinedOrNil() ? null : reader.ReadInteger();
                        break;
                    case "data":
                        if (reader.TryReadUndefined())
                        {
                            break;
                        }

                        var json = new ArrayBufferWriter<byte>(Math.Max(64, packet.Length * 2));
                        using (var writer = new Utf8JsonWriter(json))
                        {
                            dataKind = reader.PeekKind();
                            reader.ReadValueAsJson(writer, attachments, maxAttachments, 0);
                        }

                        data = json.WrittenSpan.ToArray();
                        break;
                    default:
                        reader.Skip(0); // e.g. the client's "options"
                        break;
                }
            }

            if (!reader.End)
            {
                error = "trailing bytes after the MessagePack packet";
                return null;
            }

            if (type is not (>= 0 and <= 4))
            {
                error = "invalid packet type";
                return null;
            }

            if (nsp is null || nsp.Length == 0 || nsp[0] != '/')
            {
                error = "invalid namespace";
                return null;
            }

            var valid = type switch
            {
                0 => data is null || dataKind == JsonValueKind.Object,
                1 => data is null,
                4 => dataKind is JsonValueKind.String or JsonValueKind.Object,
                _ => dataKind == JsonValueKind.Array,
            };
            if (!valid)
            {
                error = "invalid payload";
                return null;
            }

            // The text form: type (5/6 for an event/ack with attachments), "N-", "nsp,", id, JSON data.
            var text = new StringBuilder(16 + (data?.Length ?? 0));
            var textType = type.Value;
            if (attachments.Count > 0 && textType is 2 or 3)
            {
                textType += 3;
            }

            text.Append((char)('0' + textType));
            if (textType is 5 or 6)
            {
                text.Append(attachments.Count.ToString(CultureInfo.InvariantCulture)).Append('-');
            }

            if (nsp != "/")
            {
                text.Append(nsp).Append(',');
            }

            if (id is { } ackId)
            {
                if (ackId < 0)
                {
                    error = "invalid packet id";
                    return null;
                }

                text.Append(ackId.ToString(CultureInfo.InvariantCulture));
            }

            var head = Encoding.UTF8.GetBytes(text.ToString());
            if (data is null)
            {
                return (head, attachments);
            }

            var whole = new byte[head.Length + data.Length];
            head.CopyTo(whole, 0);
            data.CopyTo(whole, head.Length);
            return (whole, attachments);
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool End => _pos == _data.Length;

        private byte Next() => _pos < _data.Length ? _data[_pos++] : throw Truncated();

        private ReadOnlySpan<byte> Take(long length)
        {
            if (length < 0 || length > _data.Length - _pos)
            {
                throw Truncated();
            }

            var span = _data.Slice(_pos, (int)length);
            _pos += (int)length;
            return span;
        }

        private static FormatException Truncated() => new("truncated MessagePack");

        public int ReadMapHeader()
        {
            var b = Next();
            return b switch
            {
                >= 0x80 and <= 0x8f => b & 0x0f,
                0xde => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
                0xdf => checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
                _ => throw new FormatException("a Socket.IO MessagePack packet is a map"),
            };
        }

        public string ReadString()
        {
            var b = Next();
            long length = b switch
            {
                >= 0xa0 and <= 0xbf => b & 0x1f,
                0xd9 => Next(),
                0xda => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
                0xdb => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
                _ => throw new FormatException("expected a string"),
            };
            return Encoding.UTF8.GetString(Take(length));
        }

        public long ReadInteger()
        {
            var b = Next();
            return b switch
            {
                <= 0x7f => b,
                >= 0xe0 => (sbyte)b,
                0xcc => Next(),
                0xcd => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
                0xce => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
                0xcf => checked((long)BinaryPrimitives.ReadUInt64BigEndian(Take(8))),
                0xd0 => (sbyte)Next(),
                0xd1 => BinaryPrimitives.ReadInt16BigEndian(Take(2)),
                0xd2 => BinaryPrimitives.ReadInt32BigEndian(Take(4)),
                0xd3 => BinaryPrimitives.ReadInt64BigEndian(Take(8)),
                0xcb when ReadDoubleAfterMarker() is var d && d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
                _ => throw new FormatException("expected an integer"),
            };
        }

        private double ReadDoubleAfterMarker() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

        /// <summary>notepack's <c>undefined</c>: fixext 1 of type 0 (<c>d4 00 00</c>).</summary>
        public bool TryReadUndefined()
        {
            if (_data.Length - _pos >= 3 && _data[_pos] == 0xd4 && _data[_pos + 1] == 0 && _data[_pos + 2] == 0)
            {
                _pos += 3;
                return true;
            }

            return false;
        }

        public bool TryReadUndefinedOrNil()
        {
            if (_pos < _data.Length && _data[_pos] == 0xc0)
            {
                _pos++;
                return true;
            }

            return TryReadUndefined();
        }

        public readonly JsonValueKind PeekKind()
        {
            if (_pos >= _data.Length)
            {
                return JsonValueKind.Undefined;
            }

            return _data[_pos] switch
            {
                (>= 0x80 and <= 0x8f) or 0xde or 0xdf => JsonValueKind.Object,
                (>= 0x90 and <= 0x9f) or 0xdc or 0xdd => JsonValueKind.Array,
                (>= 0xa0 and <= 0xbf) or 0xd9 or 0xda or 0xdb => JsonValueKind.String,
                _ => JsonValueKind.Number,
            };
        }

        /// <summary>Writes the next value as JSON; binary values become attachment placeholders.</summary>
        public void ReadValueAsJson(Utf8JsonWriter writer, List<byte[]> attachments, int maxAttachments, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException("MessagePack nested too deep");
            }

            var b = Next();
            switch (b)
            {
                case <= 0x7f:
                    writer.WriteNumberValue(b);
                    return;
                case >= 0xe0:
                    writer.WriteNumberValue((sbyte)b);
                    return;
                case >= 0x80 and <= 0x8f:
                    ReadMap(writer, b & 0x0f, attachments, maxAttachments, depth);
                    return;
                case >= 0x90 and <= 0x9f:
                    ReadArray(writer, b & 0x0f, attachments, maxAttachments, depth);
                    return;
                case >= 0xa0 and <= 0xbf:
                    writer.WriteStringValue(Take(b & 0x1f));
                    return;
                case 0xc0:
                    writer.WriteNullValue();
                    return;
                case 0xc2:
                    writer.WriteBooleanValue(false);
                    return;
                case 0xc3:
                    writer.WriteBooleanValue(true);
                    return;
                case 0xc4:
                    Attach(writer, Take(Next()), attachments, maxAttachments);
                    return;
                case 0xc5:
                    Attach(writer, Take(BinaryPrimitives.ReadUInt16BigEndian(Take(2))), attachments, maxAttachments);
                    return;
                case 0xc6:
                    Attach(writer, Take(BinaryPrimitives.ReadUInt32BigEndian(Take(4))), attachments, maxAttachments);
                    return;
                case 0xc7:
                case 0xc8:
                case 0xc9:
                {
                    long length = b == 0xc7 ? Next() : b == 0xc8 ? BinaryPrimitives.ReadUInt16BigEndian(Take(2)) : BinaryPrimitives.ReadUInt32BigEndian(Take(4));
                    var extType = Next();
                    if (extType != 0)
                    {
                        throw new FormatException("unknown MessagePack extension");
                    }

                    Attach(writer, Take(length), attachments, maxAttachments); // notepack's ArrayBuffer
                    return;
                }

                case 0xca:
                    writer.WriteNumberValue(BinaryPrimitives.ReadSingleBigEndian(Take(4)));
                    return;
                case 0xcb:
                {
                    var d = BinaryPrimitives.ReadDoubleBigEndian(Take(8));
                    if (double.IsFinite(d))
                    {
                        writer.WriteNumberValue(d);
                    }
                    else
                    {
                        writer.WriteNullValue(); // as JSON.stringify writes NaN and Infinity
                    }

                    return;
                }

                case 0xcc:
                    writer.WriteNumberValue(Next());
                    return;
                case 0xcd:
                    writer.WriteNumberValue(BinaryPrimitives.ReadUInt16BigEndian(Take(2)));
                    return;
                case 0xce:
                    writer.WriteNumberValue(BinaryPrimitives.ReadUInt32BigEndian(Take(4)));
                    return;
                case 0xcf:
                    writer.WriteNumberValue(BinaryPrimitives.ReadUInt64BigEndian(Take(8)));
                    return;
                case 0xd0:
                    writer.WriteNumberValue((sbyte)Next());
                    return;
                case 0xd1:
                    writer.WriteNumberValue(BinaryPrimitives.ReadInt16BigEndian(Take(2)));
                    return;
                case 0xd2:
                    writer.WriteNumberValue(BinaryPrimitives.ReadInt32BigEndian(Take(4)));
                    return;
                case 0xd3:
                    writer.WriteNumberValue(BinaryPrimitives.ReadInt64BigEndian(Take(8)));
                    return;
                case 0xd4 when _pos + 1 < _data.Length && _data[_pos] == 0:
                    _pos += 2; // undefined: null in an array, as JSON.stringify writes it
                    writer.WriteNullValue();
                    return;
                case 0xd7 when _pos < _data.Length && _data[_pos] == 0:
                {
                    // notepack's Date: milliseconds as hi/lo 32-bit words; JSON.stringify would write the ISO string.
                    _pos++;
                    var hi = BinaryPrimitives.ReadInt32BigEndian(Take(4));
                    var lo = BinaryPrimitives.ReadUInt32BigEndian(Take(4));
                    var ms = ((long)hi * 4294967296L) + lo;
                    writer.WriteStringValue(DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                    return;
                }

                case 0xd9:
                    writer.WriteStringValue(Take(Next()));
                    return;
                case 0xda:
                    writer.WriteStringValue(Take(BinaryPrimitives.ReadUInt16BigEndian(Take(2))));
                    return;
                case 0xdb:
                    writer.WriteStringValue(Take(BinaryPrimitives.ReadUInt32BigEndian(Take(4))));
                    return;
                case 0xdc:
                    ReadArray(writer, BinaryPrimitives.ReadUInt16BigEndian(Take(2)), attachments, maxAttachments, depth);
                    return;
                case 0xdd:
                    ReadArray(writer, checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))), attachments, maxAttachments, depth);
                    return;
                case 0xde:
                    ReadMap(writer, BinaryPrimitives.ReadUInt16BigEndian(Take(2)), attachments, maxAttachments, depth);
                    return;
                case 0xdf:
                    ReadMap(writer, checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))), attachments, maxAttachments, depth);
                    return;
                default:
                    throw new FormatException($"unsupported MessagePack type 0x{b:x2}");
            }
        }

        private void ReadArray(Utf8JsonWriter writer, int count, List<byte[]> attachments, int maxAttachments, int depth)
        {
            writer.WriteStartArray();
            for (var i = 0; i < count; i++)
            {
                ReadValueAsJson(writer, attachments, maxAttachments, depth + 1);
            }

            writer.WriteEndArray();
        }

        private void ReadMap(Utf8JsonWriter writer, int count, List<byte[]> attachments, int maxAttachments, int depth)
        {
            writer.WriteStartObject();
            for (var i = 0; i < count; i++)
            {
                var key = ReadString();
                if (TryReadUndefined())
                {
                    continue; // JSON.stringify leaves out an undefined property
                }

                writer.WritePropertyName(key);
                ReadValueAsJson(writer, attachments, maxAttachments, depth + 1);
            }

            writer.WriteEndObject();
        }

        private static void Attach(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes, List<byte[]> attachments, int maxAttachments)
        {
            if (attachments.Count >= maxAttachments)
            {
                throw new FormatException($"more than {maxAttachments} attachments");
            }

            writer.WriteStartObject();
            writer.WriteBoolean("_placeholder"u8, true);
            writer.WriteNumber("num"u8, attachments.Count);
            writer.WriteEndObject();
            attachments.Add(bytes.ToArray());
        }

        /// <summary>Skips one value (a key the packet does not use).</summary>
        public void Skip(int depth)
        {
            var sink = new ArrayBufferWriter<byte>();
            using var writer = new Utf8JsonWriter(sink);
            ReadValueAsJson(writer, [], int.MaxValue, depth);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Socket.IO text packet + attachments -> MessagePack

    /// <summary>
    /// Transcodes a Socket.IO text packet (<paramref name="text"/> without the Engine.IO type) and its attachments into
    /// the MessagePack map the msgpack parser's decoder expects; placeholders become <c>bin</c> values.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> text, ReadOnlySpan<ReadOnlyMemory<byte>> attachments)
    {
        var type = text[0] - '0';
        var i = 1;
        if (type is 5 or 6)
        {
            while (i < text.Length && text[i] != '-')
            {
                i++;
            }

            i++;
            type -= 3;
        }

        var nsp = "/";
        if (i < text.Length && text[i] == '/')
        {
            var comma = text[i..].IndexOf((byte)',');
            var end = comma < 0 ? text.Length : i + comma;
            nsp = Encoding.UTF8.GetString(text[i..end]);
            i = comma < 0 ? text.Length : end + 1;
        }

        long? id = null;
        var idStart = i;
        while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
        {
            i++;
        }

        if (i > idStart)
        {
            id = long.Parse(text[idStart..i], CultureInfo.InvariantCulture);
        }

        var data = text[i..];
        var output = new ArrayBufferWriter<byte>(Math.Max(32, text.Length + 16 + TotalLength(attachments)));
        var w = new Writer(output);
        w.MapHeader(2 + (data.IsEmpty ? 0 : 1) + (id is null ? 0 : 1));
        w.String("type");
        w.Integer(type);
        if (!data.IsEmpty)
        {
            w.String("data");
            using var document = JsonDocument.Parse(data.ToArray());
            w.Json(document.RootElement, attachments);
        }

        w.String("nsp");
        w.String(nsp);
        if (id is { } ackId)
        {
            w.String("id");
            w.Integer(ackId);
        }

        return output.WrittenSpan.ToArray();
    }

    private static int TotalLength(ReadOnlySpan<ReadOnlyMemory<byte>> attachments)
    {
        var total = 0;
        foreach (var a in attachments)
        {
            total += a.Length + 5;
        }

        return total;
    }

    private readonly struct Writer(IBufferWriter<byte> output)
    {
        private void Byte(byte b) => Bytes([b]);

        private void Bytes(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(output.GetSpan(bytes.Length));
            output.Advance(bytes.Length);
        }

        public void MapHeader(int count) => Header(count, 0x80, 0x0f, 0xde, 0xdf);

        private void ArrayHeader(int count) => Header(count, 0x90, 0x0f, 0xdc, 0xdd);

        private void Header(int count, byte fix, int fixMax, byte h16, byte h32)
        {
            if (count <= fixMax)
            {
                Byte((byte)(fix | count));
            }
            else if (count <= ushort.MaxValue)
            {
                Span<byte> b = [h16, 0, 0];
                BinaryPrimitives.WriteUInt16BigEndian(b[1..], (ushort)count);
                Bytes(b);
            }
            else
            {
                Span<byte> b = [h32, 0, 0, 0, 0];
                BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)count);
                Bytes(b);
            }
        }

        public void String(string value) => Utf8(Encoding.UTF8.GetBytes(value));

        private void Utf8(ReadOnlySpan<byte> utf8)
        {
            var n = utf8.Length;
            if (n < 32)
            {
                Byte((byte)(0xa0 | n));
            }
            else if (n <= byte.MaxValue)
            {
                Bytes([0xd9, (byte)n]);
            }
            else if (n <= ushort.MaxValue)
            {
                Span<byte> b = [0xda, 0, 0];
                BinaryPrimitives.WriteUInt16BigEndian(b[1..], (ushort)n);
                Bytes(b);
            }
            else
            {
                Span<byte> b = [0xdb, 0, 0, 0, 0];
                BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)n);
                Bytes(b);
            }

            Bytes(utf8);
        }

        public void Integer(long value)
        {
            if (value is >= 0 and <= 0x7f)
            {
                Byte((byte)value);
            }
            else if (value is < 0 and >= -32)
            {
                Byte((byte)(sbyte)value);
            }
            else if (value is >= int.MinValue and <= int.MaxValue)
            {
                Span<byte> b = [0xd2, 0, 0, 0, 0];
                BinaryPrimitives.WriteInt32BigEndian(b[1..], (int)value);
                Bytes(b);
            }
            else
            {
                Span<byte> b = [0xd3, 0, 0, 0, 0, 0, 0, 0, 0];
                BinaryPrimitives.WriteInt64BigEndian(b[1..], value);
                Bytes(b);
            }
        }

        private void Double(double value)
        {
            Span<byte> b = [0xcb, 0, 0, 0, 0, 0, 0, 0, 0];
            BinaryPrimitives.WriteDoubleBigEndian(b[1..], value);
            Bytes(b);
        }

        private void Bin(ReadOnlySpan<byte> bytes)
        {
            var n = bytes.Length;
            if (n <= byte.MaxValue)
            {
                Bytes([0xc4, (byte)n]);
            }
            else if (n <= ushort.MaxValue)
            {
                Span<byte> b = [0xc5, 0, 0];
                BinaryPrimitives.WriteUInt16BigEndian(b[1..], (ushort)n);
                Bytes(b);
            }
            else
            {
                Span<byte> b = [0xc6, 0, 0, 0, 0];
                BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)n);
                Bytes(b);
            }

            Bytes(bytes);
        }

        public void Json(JsonElement element, ReadOnlySpan<ReadOnlyMemory<byte>> attachments)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    if (IsPlaceholder(element, attachments.Length, out var num))
                    {
                        Bin(attachments[num].Span);
                        return;
                    }

                    var count = 0;
                    foreach (var _ in element.EnumerateObject())
                    {
                        count++;
                    }

                    MapHeader(count);
                    foreach (var property in element.EnumerateObject())
                    {
                        String(property.Name);
                        Json(property.Value, attachments);
                    }

                    return;
                case JsonValueKind.Array:
                    ArrayHeader(element.GetArrayLength());
                    foreach (var item in element.EnumerateArray())
                    {
                        Json(item, attachments);
                    }

                    return;
                case JsonValueKind.String:
                    String(element.GetString()!);
                    return;
                case JsonValueKind.Number:
                    if (element.TryGetInt64(out var integer))
                    {
                        Integer(integer);
                    }
                    else
                    {
                        Double(element.GetDouble());
                    }

                    return;
                case JsonValueKind.True:
                    Byte(0xc3);
                    return;
                case JsonValueKind.False:
                    Byte(0xc2);
                    return;
                default:
                    Byte(0xc0);
                    return;
            }
        }

        private static bool IsPlaceholder(JsonElement element, int attachmentCount, out int num)
        {
            num = -1;
            return element.TryGetProperty("_placeholder"u8, out var p) && p.ValueKind == JsonValueKind.True
                && element.TryGetProperty("num"u8, out var n) && n.TryGetInt32(out num) && num >= 0 && num < attachmentCount;
        }
    }
}
