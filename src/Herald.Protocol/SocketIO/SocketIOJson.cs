using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Protocol.SocketIO;

/// <summary>
/// JSON settings for Socket.IO payloads and the ambient attachment list that lets typed arguments carry
/// binary: while a packet is encoded, every <c>byte[]</c>, <see cref="ReadOnlyMemory{T}"/> or
/// <see cref="Memory{T}"/> of bytes (at any depth) is written as <c>{"_placeholder":true,"num":n}</c> and its
/// bytes are appended as attachment <c>n</c>; while arguments are bound, placeholders are resolved from the
/// packet's attachments. Outside of those scopes the converters fall back to base64 strings.
/// </summary>
public static class SocketIOJson
{
    [ThreadStatic]
    private static List<ReadOnlyMemory<byte>>? t_outgoing;

    [ThreadStatic]
    private static IReadOnlyList<ReadOnlyMemory<byte>>? t_incoming;

    internal static readonly JsonEncodedText PlaceholderName = JsonEncodedText.Encode("_placeholder");
    internal static readonly JsonEncodedText NumName = JsonEncodedText.Encode("num");

    /// <summary>
    /// The default options: web defaults (camelCase, case-insensitive reads), relaxed escaping (like
    /// <c>JSON.stringify</c>, non-ASCII stays as UTF-8) and the binary placeholder converters.
    /// </summary>
    public static JsonSerializerOptions DefaultOptions { get; } = CreateOptions();

    /// <summary>
    /// Options for Socket.IO payloads derived from <paramref name="source"/> (web defaults when null): adds the
    /// binary placeholder converters and, when none is set, the relaxed encoder. The result is read-only.
    /// </summary>
    public static JsonSerializerOptions CreateOptions(JsonSerializerOptions? source = null)
    {
        var options = source is null ? new JsonSerializerOptions(JsonSerializerDefaults.Web) : new JsonSerializerOptions(source);
        options.Encoder ??= JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Insert(0, new ByteArrayPlaceholderConverter());
        options.Converters.Insert(0, new ReadOnlyMemoryPlaceholderConverter());
        options.Converters.Insert(0, new MemoryPlaceholderConverter());
        options.Converters.Insert(0, new RawJsonArgumentConverter());
        options.TypeInfoResolver ??= new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver();
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Binds <paramref name="element"/> to <typeparamref name="T"/>, resolving placeholders from <paramref name="attachments"/>.</summary>
    public static T? Deserialize<T>(JsonElement element, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        var previous = t_incoming;
        t_incoming = attachments;
        try
        {
            return element.Deserialize<T>(options);
        }
        finally
        {
            t_incoming = previous;
        }
    }

    /// <summary>Binds <paramref name="element"/> to <paramref name="type"/>, resolving placeholders from <paramref name="attachments"/>.</summary>
    public static object? Deserialize(JsonElement element, Type type, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        var previous = t_incoming;
        t_incoming = attachments;
        try
        {
            return element.Deserialize(type, options);
        }
        finally
        {
            t_incoming = previous;
        }
    }

    /// <summary>Starts collecting outgoing attachments on this thread; returns the previous collector to restore.</summary>
    internal static List<ReadOnlyMemory<byte>>? BeginCollect(List<ReadOnlyMemory<byte>> collector)
    {
        var previous = t_outgoing;
        t_outgoing = collector;
        return previous;
    }

    internal static void EndCollect(List<ReadOnlyMemory<byte>>? previous) => t_outgoing = previous;

    /// <summary>Writes a placeholder for <paramref name="data"/> when collecting; false outside an encode.</summary>
    internal static bool TryWritePlaceholder(Utf8JsonWriter writer, ReadOnlyMemory<byte> data)
    {
        var collector = t_outgoing;
        if (collector is null)
        {
            return false;
        }

        WritePlaceholder(writer, collector.Count);
        collector.Add(data);
        return true;
    }

    internal static void WritePlaceholder(Utf8JsonWriter writer, int num)
    {
        writer.WriteStartObject();
        writer.WriteBoolean(PlaceholderName, true);
        writer.WriteNumber(NumName, num);
        writer.WriteEndObject();
    }

    /// <summary>Reads a placeholder object (or a base64 string) into the referenced attachment.</summary>
    internal static ReadOnlyMemory<byte> ReadBinary(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetBytesFromBase64();
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a binary placeholder.");
        }

        var isPlaceholder = false;
        var num = -1;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                throw new JsonException("Invalid binary placeholder.");
            }

            if (reader.ValueTextEquals("_placeholder"u8))
            {
                reader.Read();
                isPlaceholder = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("num"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out num))
                {
                    throw new JsonException("Invalid binary placeholder number.");
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var attachments = t_incoming;
        if (!isPlaceholder || attachments is null || (uint)num >= (uint)attachments.Count)
        {
            throw new JsonException("The binary placeholder does not reference an attachment of this packet.");
        }

        return attachments[num];
    }

    private sealed class ByteArrayPlaceholderConverter : JsonConverter<byte[]>
    {
        public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var memory = ReadBinary(ref reader);
            return MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : memory.ToArray();
        }

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options)
        {
            if (!TryWritePlaceholder(writer, value))
            {
                writer.WriteBase64StringValue(value);
            }
        }
    }

    private sealed class ReadOnlyMemoryPlaceholderConverter : JsonConverter<ReadOnlyMemory<byte>>
    {
        public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => ReadBinary(ref reader);

        public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options)
        {
            if (!TryWritePlaceholder(writer, value))
            {
                writer.WriteBase64StringValue(value.Span);
            }
        }
    }

    private sealed class MemoryPlaceholderConverter : JsonConverter<Memory<byte>>
    {
        public override Memory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => ReadBinary(ref reader).ToArray();

        public override void Write(Utf8JsonWriter writer, Memory<byte> value, JsonSerializerOptions options)
        {
            if (!TryWritePlaceholder(writer, value))
            {
                writer.WriteBase64StringValue(value.Span);
            }
        }
    }
}
