using System.Text;
using System.Text.Json;
using Herald.Internal;

namespace Herald.Protocol.SocketIO;

/// <summary>
/// An encoded Socket.IO packet: the text part (UTF-8, optionally prefixed with the Engine.IO message type
/// <c>4</c>) and the binary attachments that must follow it in order.
/// </summary>
public readonly struct EncodedSocketIOPacket
{
    /// <summary>Creates the pair.</summary>
    public EncodedSocketIOPacket(byte[] text, ReadOnlyMemory<byte>[]? attachments)
    {
        Text = text;
        Attachments = attachments ?? [];
    }

    /// <summary>The text packet.</summary>
    public byte[] Text { get; }

    /// <summary>The attachments, empty when the packet has no binary.</summary>
    public ReadOnlyMemory<byte>[] Attachments { get; }
}

/// <summary>
/// Encodes Socket.IO v5 packets straight to UTF-8: the JSON payload is written with a reused
/// <see cref="Utf8JsonWriter"/> into a pooled scratch buffer (collecting binary attachments through
/// <see cref="SocketIOJson"/>), then header and payload are copied once into an exact-size array, the only
/// allocation besides the attachment list. Arguments are serialized with their runtime type.
/// </summary>
public static class SocketIOPacketEncoder
{
    /// <summary>The Engine.IO <c>message</c> packet type that prefixes every Socket.IO packet on the wire.</summary>
    public const byte EngineMessagePrefix = (byte)'4';

    [ThreadStatic]
    private static Scratch? t_scratch;

    /// <summary>An EVENT (BINARY_EVENT when an argument holds bytes) <c>[eventName, ...args]</c>; <paramref name="id"/> -1 for none.</summary>
    public static EncodedSocketIOPacket EncodeEvent(string ns, string eventName, ReadOnlySpan<object?> args, long id,
        JsonSerializerOptions options, bool enginePrefix = true)
    {
        var scratch = Rent(options);
        try
        {
            var writer = scratch.Writer;
            writer.WriteStartArray();
            writer.WriteStringValue(eventName);
            WriteArgs(writer, args, options);
            writer.WriteEndArray();
            return scratch.Finish(SocketIOPacketType.Event, ns, id, enginePrefix);
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>An ACK (BINARY_ACK when an argument holds bytes) <c>[...args]</c> answering <paramref name="id"/>.</summary>
    public static EncodedSocketIOPacket EncodeAck(string ns, long id, ReadOnlySpan<object?> args, JsonSerializerOptions options, bool enginePrefix = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        var scratch = Rent(options);
        try
        {
            var writer = scratch.Writer;
            writer.WriteStartArray();
            WriteArgs(writer, args, options);
            writer.WriteEndArray();
            return scratch.Finish(SocketIOPacketType.Ack, ns, id, enginePrefix);
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>The CONNECT answer <c>0[ns,]{"sid":"..."}</c>.</summary>
    public static byte[] EncodeConnect(string ns, string sid, bool enginePrefix = true) => EncodeConnect(ns, sid, null, enginePrefix);

    /// <summary>
    /// A CONNECT answer <c>0[ns,]{"sid":"...","pid":"..."}</c>: with connection-state recovery the private session id
    /// <paramref name="pid"/> tells the client to send <c>{pid, offset}</c> back when it reconnects (omitted when null).
    /// </summary>
    public static byte[] EncodeConnect(string ns, string sid, string? pid, bool enginePrefix = true)
    {
        var scratch = Rent(SocketIOJson.DefaultOptions);
        try
        {
            var writer = scratch.Writer;
            writer.WriteStartObject();
            writer.WriteString("sid"u8, sid);
            if (pid is not null)
            {
                writer.WriteString("pid"u8, pid);
            }

            writer.WriteEndObject();
            return scratch.Finish(SocketIOPacketType.Connect, ns, -1, enginePrefix).Text;
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>A CONNECT_ERROR <c>4[ns,]{"message":"...","data":...}</c> (<c>data</c> omitted when null).</summary>
    public static byte[] EncodeConnectError(string ns, string message, object? data, JsonSerializerOptions options, bool enginePrefix = true)
    {
        var scratch = Rent(options);
        try
        {
            var writer = scratch.Writer;
            writer.WriteStartObject();
            writer.WriteString("message"u8, message);
            if (data is not null)
            {
                writer.WritePropertyName("data"u8);
                JsonSerializer.Serialize(writer, data, data.GetType(), options);
            }

            writer.WriteEndObject();
            return scratch.Finish(SocketIOPacketType.ConnectError, ns, -1, enginePrefix).Text;
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>A DISCONNECT <c>1[ns,]</c>.</summary>
    public static byte[] EncodeDisconnect(string ns, bool enginePrefix = true)
    {
        var scratch = Rent(SocketIOJson.DefaultOptions);
        try
        {
            return scratch.Finish(SocketIOPacketType.Disconnect, ns, -1, enginePrefix, hasPayload: false).Text;
        }
        finally
        {
            Return(scratch);
        }
    }

    private static void WriteArgs(Utf8JsonWriter writer, ReadOnlySpan<object?> args, JsonSerializerOptions options)
    {
        foreach (var arg in args)
        {
            switch (arg)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string s:
                    writer.WriteStringValue(s);
                    break;
                case int i:
                    writer.WriteNumberValue(i);
                    break;
                case long l:
                    writer.WriteNumberValue(l);
                    break;
                case bool b:
                    writer.WriteBooleanValue(b);
                    break;
                case JsonElement e:
                    e.WriteTo(writer);
                    break;
                case byte[] bytes:
                    SocketIOJson.TryWritePlaceholder(writer, bytes);
                    break;
                case ReadOnlyMemory<byte> rom:
                    SocketIOJson.TryWritePlaceholder(writer, rom);
                    break;
                default:
                    JsonSerializer.Serialize(writer, arg, arg.GetType(), options);
                    break;
            }
        }
    }

    private static Scratch Rent(JsonSerializerOptions options)
    {
        var scratch = t_scratch;
        if (scratch is not null && ReferenceEquals(scratch.Options, options))
        {
            t_scratch = null; // taken: a re-entrant encode (from a converter) gets its own
        }
        else
        {
            scratch = new Scratch(options);
        }

        scratch.Begin();
        return scratch;
    }

    private static void Return(Scratch scratch)
    {
        scratch.End();
        if (scratch.Buffer.WrittenCount <= 64 * 1024)
        {
            scratch.Buffer.Reset();
            t_scratch = scratch;
        }
        else
        {
            scratch.Dispose(); // do not keep a huge rented buffer per thread
        }
    }

    private sealed class Scratch : IDisposable
    {
        private readonly List<ReadOnlyMemory<byte>> _attachments = [];
        private List<ReadOnlyMemory<byte>>? _previousCollector;

        public Scratch(JsonSerializerOptions options)
        {
            Options = options;
            Buffer = new PooledBufferWriter(512);
            Writer = new Utf8JsonWriter(Buffer, new JsonWriterOptions
            {
                Encoder = options.Encoder,
                Indented = false,
                MaxDepth = options.MaxDepth == 0 ? 64 : options.MaxDepth,
            });
        }

        public JsonSerializerOptions Options { get; }

        public PooledBufferWriter Buffer { get; }

        public Utf8JsonWriter Writer { get; }

        public void Begin()
        {
            Buffer.Reset();
            Writer.Reset(Buffer);
            _attachments.Clear();
            _previousCollector = SocketIOJson.BeginCollect(_attachments);
        }

        public void End()
        {
            SocketIOJson.EndCollect(_previousCollector);
            _previousCollector = null;
            _attachments.Clear();
        }

        /// <summary>Builds <c>[4]&lt;type&gt;[&lt;n&gt;-][&lt;ns&gt;,][&lt;id&gt;]&lt;payload&gt;</c> into one exact array.</summary>
        public EncodedSocketIOPacket Finish(SocketIOPacketType type, string ns, long id, bool enginePrefix, bool hasPayload = true)
        {
            Writer.Flush();
            var payload = hasPayload ? Buffer.WrittenSpan : default;
            var attachmentCount = _attachments.Count;
            if (attachmentCount > 0)
            {
                type = type == SocketIOPacketType.Event ? SocketIOPacketType.BinaryEvent : SocketIOPacketType.BinaryAck;
            }

            var mainNamespace = ns.Length == 0 || ns == "/";
            var nsBytes = mainNamespace ? 0 : Encoding.UTF8.GetByteCount(ns);
            Span<byte> numbers = stackalloc byte[40];
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

            var length = (enginePrefix ? 1 : 0) + 1 + (attachmentCount > 0 ? countLength + 1 : 0)
                + (mainNamespace ? 0 : nsBytes + 1) + idLength + payload.Length;
            var result = new byte[length];
            var span = result.AsSpan();
            var pos = 0;
            if (enginePrefix)
            {
                span[pos++] = EngineMessagePrefix;
            }

            span[pos++] = (byte)('0' + (byte)type);
            if (attachmentCount > 0)
            {
                numbers[..countLength].CopyTo(span[pos..]);
                pos += countLength;
                span[pos++] = (byte)'-';
            }

            if (!mainNamespace)
            {
                pos += Encoding.UTF8.GetBytes(ns, span[pos..]);
                span[pos++] = (byte)',';
            }

            if (idLength > 0)
            {
                numbers.Slice(20, idLength).CopyTo(span[pos..]);
                pos += idLength;
            }

            payload.CopyTo(span[pos..]);
            return new EncodedSocketIOPacket(result, attachmentCount > 0 ? [.. _attachments] : null);
        }

        public void Dispose()
        {
            Writer.Dispose();
            Buffer.Dispose();
        }
    }
}
