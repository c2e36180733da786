using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// The peer-link wire format (docs/wire-format.md, "Peer links"): WebSocket text frames carry JSON control
/// frames, binary frames carry one message each.
/// </summary>
/// <remarks>
/// <para>Control frames (UTF-8 JSON objects, member <c>type</c> first is not required):</para>
/// <list type="bullet">
/// <item>server → client, first frame: <c>{"type":"welcome","v":1,"node":"rpc-server-1"}</c></item>
/// <item>client → server: <c>{"type":"subscribe","id":7,"channel":"topic:greeting"}</c> or with <c>"pattern"</c>
/// instead of <c>"channel"</c>; answered by <c>{"type":"subscribed","id":7}</c> once the node's bus confirmed it</item>
/// <item>client → server: <c>{"type":"unsubscribe","channel":"..."}</c> / <c>{"type":"unsubscribe","pattern":"..."}</c></item>
/// <item>server → client: <c>{"type":"error","id":7,"message":"..."}</c> when a subscription is refused</item>
/// </list>
/// <para>Data frames are binary, so that a payload travels as-is with no escaping and one frame per message:</para>
/// <code>
/// publish (client → server): 0x01 | u16 BE channel length | channel (UTF-8) | payload
/// message (server → client): 0x02 | u16 BE channel length | channel | u16 BE pattern length (0: exact) | pattern | payload
/// </code>
/// </remarks>
internal static class PeerLinkProtocol
{
    public const int Version = 1;
    public const byte PublishOp = 0x01;
    public const byte MessageOp = 0x02;
    public const int MaxNameBytes = ushort.MaxValue;

    public const string KeyHeader = PeerLinkHeaders.Key;
    public const string NodeHeader = PeerLinkHeaders.Node;

    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText ChannelName = JsonEncodedText.Encode("channel");
    private static readonly JsonEncodedText PatternName = JsonEncodedText.Encode("pattern");

    /// <summary>Writes a publish frame; returns the frame length.</summary>
    public static int GetPublishLength(string channel, int payloadLength)
        => 3 + Encoding.UTF8.GetByteCount(channel) + payloadLength;

    public static void WritePublish(Span<byte> destination, string channel, ReadOnlySpan<byte> payload)
    {
        destination[0] = PublishOp;
        var n = Encoding.UTF8.GetBytes(channel, destination[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], checked((ushort)n));
        payload.CopyTo(destination[(3 + n)..]);
    }

    public static int GetMessageLength(string channel, string? pattern, int payloadLength)
        => 5 + Encoding.UTF8.GetByteCount(channel) + (pattern is null ? 0 : Encoding.UTF8.GetByteCount(pattern)) + payloadLength;

    public static void WriteMessage(Span<byte> destination, string channel, string? pattern, ReadOnlySpan<byte> payload)
    {
        destination[0] = MessageOp;
        var n = Encoding.UTF8.GetBytes(channel, destination[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], checked((ushort)n));
        var at = 3 + n;
        var p = pattern is null ? 0 : Encoding.UTF8.GetBytes(pattern, destination[(at + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], checked((ushort)p));
        payload.CopyTo(destination[(at + 2 + p)..]);
    }

    /// <summary>Parses a publish frame: the channel name bytes and the payload.</summary>
    public static bool TryParsePublish(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> channel, out int payloadOffset)
    {
        channel = default;
        payloadOffset = 0;
        if (frame.Length < 3 || frame[0] != PublishOp)
        {
            return false;
        }

        int n = BinaryPrimitives.ReadUInt16BigEndian(frame[1..]);
        if (n == 0 || frame.Length < 3 + n)
        {
            return false;
        }

        channel = frame.Slice(3, n);
        payloadOffset = 3 + n;
        return true;
    }

    /// <summary>Parses a message frame: channel, pattern (empty: exact subscription) and where the payload starts.</summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> channel, out ReadOnlySpan<byte> pattern, out int payloadOffset)
    {
        channel = default;
        pattern = default;
        payloadOffset = 0;
        if (frame.Length < 5 || frame[0] != MessageOp)
        {
            return false;
        }

        int n = BinaryPrimitives.ReadUInt16BigEndian(frame[1..]);
        if (n == 0 || frame.Length < 5 + n)
        {
            return false;
        }

        channel = frame.Slice(3, n);
        int p = BinaryPrimitives.ReadUInt16BigEndian(frame[(3 + n)..]);
        if (frame.Length < 5 + n + p)
        {
            return false;
        }

        pattern = frame.Slice(5 + n, p);
        payloadOffset = 5 + n + p;
        return true;
    }

    public static byte[] Welcome(string node) => Control(w =>
    {
        w.WriteString(TypeName, "welcome");
        w.WriteNumber("v", Version);
        w.WriteString("node", node);
    });

    public static byte[] Subscribe(long id, string name, bool isPattern) => Control(w =>
    {
        w.WriteString(TypeName, "subscribe");
        w.WriteNumber(IdName, id);
        w.WriteString(isPattern ? PatternName : ChannelName, name);
    });

    public static byte[] Unsubscribe(string name, bool isPattern) => Control(w =>
    {
        w.WriteString(TypeName, "unsubscribe");
        w.WriteString(isPattern ? PatternName : ChannelName, name);
    });

    public static byte[] Subscribed(long id) => Control(w =>
    {
        w.WriteString(TypeName, "subscribed");
        w.WriteNumber(IdName, id);
    });

    public static byte[] Error(long? id, string message) => Control(w =>
    {
        w.WriteString(TypeName, "error");
        if (id is { } value)
        {
            w.WriteNumber(IdName, value);
        }

        w.WriteString("message", message);
    });

    private static byte[] Control(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a control frame; unknown members are ignored so that newer peers stay readable.</summary>
    public static bool TryParseControl(ReadOnlySpan<byte> json, [NotNullWhen(true)] out ControlFrame? frame)
    {
        frame = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            string? type = null, channel = null, pattern = null, node = null, message = null;
            long? id = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    return false;
                }

                switch (name)
                {
                    case "type" when reader.TokenType == JsonTokenType.String:
                        type = reader.GetString();
                        break;
                    case "id" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v):
                        id = v;
                        break;
                    case "channel" when reader.TokenType == JsonTokenType.String:
                        channel = reader.GetString();
                        break;
                    case "pattern" when reader.TokenType == JsonTokenType.String:
                        pattern = reader.GetString();
                        break;
                    case "node" when reader.TokenType == JsonTokenType.String:
                        node = reader.GetString();
                        break;
                    case "message" when reader.TokenType == JsonTokenType.String:
                        message = reader.GetString();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || type is null)
            {
                return false;
            }

            frame = new ControlFrame(type, id, channel, pattern, node, message);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>The HTTP request headers of a peer-link upgrade.</summary>
public static class PeerLinkHeaders
{
    /// <summary>Carries the shared key (<c>Herald-Key: s3cret</c>); a wrong or missing key is answered 401 before the upgrade.</summary>
    public const string Key = "Herald-Key";

    /// <summary>Carries the connecting node's name (<c>Herald-Node: rpc-server-2</c>), for the node's logs.</summary>
    public const string Node = "Herald-Node";
}

/// <summary>A parsed control frame.</summary>
internal sealed record ControlFrame(string Type, long? Id, string? Channel, string? Pattern, string? Node, string? Message);
