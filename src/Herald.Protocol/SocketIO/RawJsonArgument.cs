using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Protocol.SocketIO;

/// <summary>
/// A received JSON value together with the attachments its placeholders reference, so that it can be emitted
/// again unchanged (a relay): when encoded, each placeholder is renumbered into the outgoing packet's
/// attachments. The element must stay valid until the emit call returns (encoding is synchronous).
/// </summary>
public sealed class RawJsonArgument
{
    /// <summary>Wraps a value and the attachments of the packet it came from.</summary>
    public RawJsonArgument(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        Value = value;
        Attachments = attachments;
    }

    /// <summary>The JSON value (placeholders included).</summary>
    public JsonElement Value { get; }

    /// <summary>The attachments the placeholders of <see cref="Value"/> reference.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }
}

internal sealed class RawJsonArgumentConverter : JsonConverter<RawJsonArgument>
{
    public override RawJsonArgument Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => throw new NotSupportedException("RawJsonArgument is write-only; bind JsonElement instead.");

    public override void Write(Utf8JsonWriter writer, RawJsonArgument value, JsonSerializerOptions options)
    {
        if (value.Attachments.Count == 0)
        {
            value.Value.WriteTo(writer);
            return;
        }

        WriteRemapped(writer, value.Value, value.Attachments);
    }

    private static void WriteRemapped(Utf8JsonWriter writer, JsonElement element, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteRemapped(writer, item, attachments);
                }

                writer.WriteEndArray();
                return;
            case JsonValueKind.Object:
                if (element.TryGetProperty("_placeholder"u8, out var flag) && flag.ValueKind == JsonValueKind.True
                    && element.TryGetProperty("num"u8, out var num) && num.ValueKind == JsonValueKind.Number && num.TryGetInt32(out var n) && (uint)n < (uint)attachments.Count
                    && SocketIOJson.TryWritePlaceholder(writer, attachments[n]))
                {
                    return;
                }

                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteRemapped(writer, property.Value, attachments);
                }

                writer.WriteEndObject();
                return;
            default:
                element.WriteTo(writer);
                return;
        }
    }
}
