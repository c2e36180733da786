using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Herald.Protocol.Cluster;

/// <summary>
/// Reads and writes the JSON form of a <see cref="ClusterEnvelope"/>, the one format that travels between
/// nodes and that non-.NET systems publish. One object, UTF-8, camelCase, optional members omitted:
/// <code>
/// {
///   "v": 1,                                   // version; optional on input (1)
///   "source": "web-server-1",                 // required: the publishing node
///   "target": "web-server-2",                 // optional: only this node acts on it; absent/null = all
///   "kind": "broadcast",                      // required: see ClusterEnvelopeKinds
///   "nsp": "/chat",                           // optional: Socket.IO namespace, default "/"
///   "rooms": ["news"],                        // optional: target rooms; absent/empty = everyone in nsp
///   "except": ["sid-1"],                      // optional: rooms/socket ids to skip
///   "flags": {"volatile": true},              // optional: volatile, local, compress, binary
///   "requestId": "a1b2",                      // optional: correlates requests and responses
///   "ackTimeout": 5000,                       // optional: milliseconds
///   "packet": {"type": 2, "data": ["greeting", "Hello"]},  // optional: any JSON, passed through as is
///   "data": {...},                            // optional: kind-specific JSON, passed through as is
///   "attachments": ["AQID"]                   // optional: base64 binary attachments
/// }
/// </code>
/// Unknown members are ignored, so newer writers stay readable by older nodes.
/// </summary>
public static class ClusterEnvelopeCodec
{
    private static readonly JsonEncodedText VersionName = JsonEncodedText.Encode("v");
    private static readonly JsonEncodedText SourceName = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText TargetName = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText KindName = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText NamespaceName = JsonEncodedText.Encode("nsp");
    private static readonly JsonEncodedText RoomsName = JsonEncodedText.Encode("rooms");
    private static readonly JsonEncodedText ExceptName = JsonEncodedText.Encode("except");
    private static readonly JsonEncodedText FlagsName = JsonEncodedText.Encode("flags");
    private static readonly JsonEncodedText RequestIdName = JsonEncodedText.Encode("requestId");
    private static readonly JsonEncodedText AckTimeoutName = JsonEncodedText.Encode("ackTimeout");
    private static readonly JsonEncodedText PacketName = JsonEncodedText.Encode("packet");
    private static readonly JsonEncodedText DataName = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText AttachmentsName = JsonEncodedText.Encode("attachments");
    private static readonly JsonEncodedText VolatileName = JsonEncodedText.Encode("volatile");
    private static readonly JsonEncodedText LocalName = JsonEncodedText.Encode("local");
    private static readonly JsonEncodedText CompressName = JsonEncodedText.Encode("compress");
    private static readonly JsonEncodedText BinaryName = JsonEncodedText.Encode("binary");

    /// <summary>Writes <paramref name="envelope"/> as JSON to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, ClusterEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(envelope);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartObject();
        writer.WriteNumber(VersionName, envelope.Version);
        writer.WriteString(SourceName, envelope.Source);
        if (envelope.Target is not null)
        {
            writer.WriteString(TargetName, envelope.Target);
        }

        writer.WriteString(KindName, envelope.Kind);
        writer.WriteString(NamespaceName, envelope.Namespace);
        WriteStrings(writer, RoomsName, envelope.Rooms);
        WriteStrings(writer, ExceptName, envelope.Except);
        if (envelope.Flags != ClusterEnvelopeFlags.None)
        {
            writer.WriteStartObject(FlagsName);
            WriteFlag(writer, VolatileName, envelope.Flags, ClusterEnvelopeFlags.Volatile);
            WriteFlag(writer, LocalName, envelope.Flags, ClusterEnvelopeFlags.Local);
            WriteFlag(writer, CompressName, envelope.Flags, ClusterEnvelopeFlags.Compress);
            WriteFlag(writer, BinaryName, envelope.Flags, ClusterEnvelopeFlags.Binary);
            writer.WriteEndObject();
        }

        if (envelope.RequestId is not null)
        {
            writer.WriteString(RequestIdName, envelope.RequestId);
        }

        if (envelope.AckTimeoutMilliseconds is { } timeout)
        {
            writer.WriteNumber(AckTimeoutName, timeout);
        }

        if (!envelope.Packet.IsEmpty)
        {
            writer.WritePropertyName(PacketName);
            writer.WriteRawValue(envelope.Packet.Span, skipInputValidation: false);
        }

        if (!envelope.Data.IsEmpty)
        {
            writer.WritePropertyName(DataName);
            writer.WriteRawValue(envelope.Data.Span, skipInputValidation: false);
        }

        if (envelope.Attachments.Count > 0)
        {
            writer.WriteStartArray(AttachmentsName);
            for (var i = 0; i < envelope.Attachments.Count; i++)
            {
                writer.WriteBase64StringValue(envelope.Attachments[i].Span);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>The JSON bytes of <paramref name="envelope"/>.</summary>
    public static byte[] Encode(ClusterEnvelope envelope)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, envelope);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads one envelope. Returns false, with a reason in <paramref name="error"/>, for anything that is
    /// not a well-formed envelope within <paramref name="limits"/>; never throws on bad input. The result
    /// owns its memory (packet and data are copied out of <paramref name="json"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, [NotNullWhen(true)] out ClusterEnvelope? envelope, [NotNullWhen(false)] out string? error, ClusterEnvelopeLimits? limits = null)
    {
        envelope = null;
        limits ??= ClusterEnvelopeLimits.Default;
        if (json.Length > limits.MaxEnvelopeSize)
        {
            error = $"envelope of {json.Length} bytes is over the limit of {limits.MaxEnvelopeSize}";
            return false;
        }

        try
        {
            error = ReadCore(json, limits, out envelope);
            return error is null;
        }
        catch (JsonException e)
        {
            error = "malformed JSON: " + e.Message;
            return false;
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader getters throw this on a token of the wrong type.
            error = "wrong JSON type: " + e.Message;
            return false;
        }
        catch (FormatException e)
        {
            error = "invalid value: " + e.Message;
            return false;
        }
    }

    private static string? ReadCore(ReadOnlySpan<byte> json, ClusterEnvelopeLimits limits, out ClusterEnvelope? envelope)
    {
        envelope = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = limits.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "an envelope is a JSON object";
        }

        var version = ClusterEnvelope.CurrentVersion;
        string? source = null, target = null, kind = null, requestId = null;
        var nsp = "/";
        IReadOnlyList<string> rooms = [], except = [];
        var flags = ClusterEnvelopeFlags.None;
        int? ackTimeout = null;
        ReadOnlyMemory<byte> packet = default, data = default;
        IReadOnlyList<ReadOnlyMemory<byte>> attachments = [];

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("v"u8))
            {
                reader.Read();
                version = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("source"u8))
            {
                reader.Read();
                source = reader.GetString();
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                target = reader.GetString();
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                kind = reader.GetString();
            }
            else if (reader.ValueTextEquals("nsp"u8))
            {
                reader.Read();
                nsp = reader.GetString() ?? "/";
            }
            else if (reader.ValueTextEquals("rooms"u8))
            {
                if (ReadStrings(ref reader, limits.MaxRooms, out rooms) is { } e)
                {
                    return "rooms: " + e;
                }
            }
            else if (reader.ValueTextEquals("except"u8))
            {
                if (ReadStrings(ref reader, limits.MaxRooms, out except) is { } e)
                {
                    return "except: " + e;
                }
            }
            else if (reader.ValueTextEquals("flags"u8))
            {
                if (ReadFlags(ref reader, out flags) is { } e)
                {
                    return "flags: " + e;
                }
            }
            else if (reader.ValueTextEquals("requestId"u8))
            {
                reader.Read();
                requestId = reader.GetString();
            }
            else if (reader.ValueTextEquals("ackTimeout"u8))
            {
                reader.Read();
                ackTimeout = reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32();
            }
            else if (reader.ValueTextEquals("packet"u8))
            {
                packet = ReadRaw(ref reader, json);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                data = ReadRaw(ref reader, json);
            }
            else if (reader.ValueTextEquals("attachments"u8))
            {
                if (ReadAttachments(ref reader, limits.MaxAttachments, out attachments) is { } e)
                {
                    return "attachments: " + e;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return "unterminated object";
        }

        if (reader.Read())
        {
            return "trailing data after the envelope";
        }

        if (string.IsNullOrEmpty(source))
        {
            return "'source' is required";
        }

        if (string.IsNullOrEmpty(kind))
        {
            return "'kind' is required";
        }

        if (version < 1)
        {
            return "'v' must be 1 or more";
        }

        envelope = new ClusterEnvelope
        {
            Version = version,
            Source = source,
            Target = target,
            Kind = kind,
            Namespace = nsp,
            Rooms = rooms,
            Except = except,
            Flags = flags,
            RequestId = requestId,
            AckTimeoutMilliseconds = ackTimeout,
            Packet = packet,
            Data = data,
            Attachments = attachments,
        };
        return null;
    }

    // Copies the next value verbatim (whitespace inside is kept); null counts as absent.
    private static ReadOnlyMemory<byte> ReadRaw(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return json[start..(int)reader.BytesConsumed].ToArray();
    }

    private static string? ReadStrings(ref Utf8JsonReader reader, int max, out IReadOnlyList<string> values)
    {
        values = [];
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return "expected an array of strings";
        }

        List<string>? list = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return "expected an array of strings";
            }

            list ??= [];
            if (list.Count == max)
            {
                return $"more than {max} entries";
            }

            list.Add(reader.GetString()!);
        }

        values = list is null ? [] : list;
        return null;
    }

    private static string? ReadAttachments(ref Utf8JsonReader reader, int max, out IReadOnlyList<ReadOnlyMemory<byte>> values)
    {
        values = [];
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return "expected an array of base64 strings";
        }

        var list = new List<ReadOnlyMemory<byte>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return "expected an array of base64 strings";
            }

            if (list.Count == max)
            {
                return $"more than {max} entries";
            }

            list.Add(reader.GetBytesFromBase64());
        }

        values = list;
        return null;
    }

    private static string? ReadFlags(ref Utf8JsonReader reader, out ClusterEnvelopeFlags flags)
    {
        flags = ClusterEnvelopeFlags.None;
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "expected an object of booleans";
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var flag = reader.ValueTextEquals("volatile"u8) ? ClusterEnvelopeFlags.Volatile
                : reader.ValueTextEquals("local"u8) ? ClusterEnvelopeFlags.Local
                : reader.ValueTextEquals("compress"u8) ? ClusterEnvelopeFlags.Compress
                : reader.ValueTextEquals("binary"u8) ? ClusterEnvelopeFlags.Binary
                : ClusterEnvelopeFlags.None;
            reader.Read();
            if (flag == ClusterEnvelopeFlags.None)
            {
                reader.Skip();
                continue;
            }

            if (reader.GetBoolean())
            {
                flags |= flag;
            }
        }

        return null;
    }

    private static void WriteStrings(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        writer.WriteStartArray(name);
        for (var i = 0; i < values.Count; i++)
        {
            writer.WriteStringValue(values[i]);
        }

        writer.WriteEndArray();
    }

    private static void WriteFlag(Utf8JsonWriter writer, JsonEncodedText name, ClusterEnvelopeFlags flags, ClusterEnvelopeFlags flag)
    {
        if ((flags & flag) != 0)
        {
            writer.WriteBoolean(name, true);
        }
    }
}

/// <summary>Bounds on what <see cref="ClusterEnvelopeCodec.TryParse"/> accepts, so bad input costs bounded memory.</summary>
public sealed class ClusterEnvelopeLimits
{
    /// <summary>The defaults: 16 MiB, 10,000 rooms, 256 attachments, depth 64.</summary>
    public static ClusterEnvelopeLimits Default { get; } = new();

    /// <summary>The largest envelope, in bytes.</summary>
    public int MaxEnvelopeSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>The most entries in <c>rooms</c> and in <c>except</c>.</summary>
    public int MaxRooms { get; init; } = 10_000;

    /// <summary>The most binary attachments.</summary>
    public int MaxAttachments { get; init; } = 256;

    /// <summary>The deepest JSON nesting.</summary>
    public int MaxDepth { get; init; } = 64;
}
