using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Herald.Protocol.EngineIO;

/// <summary>
/// Writes Engine.IO v4 packets: the <c>open</c> handshake and the pieces of an HTTP long-polling payload
/// (<c>&lt;packet&gt;\x1e&lt;packet&gt;...</c>, binary as <c>b</c> + base64).
/// </summary>
public static class EnginePacketWriter
{
    private static readonly JsonEncodedText s_sid = JsonEncodedText.Encode("sid");
    private static readonly JsonEncodedText s_upgrades = JsonEncodedText.Encode("upgrades");
    private static readonly JsonEncodedText s_pingInterval = JsonEncodedText.Encode("pingInterval");
    private static readonly JsonEncodedText s_pingTimeout = JsonEncodedText.Encode("pingTimeout");
    private static readonly JsonEncodedText s_maxPayload = JsonEncodedText.Encode("maxPayload");

    /// <summary>
    /// Writes the handshake: <c>0{"sid":"..","upgrades":[..],"pingInterval":n,"pingTimeout":n,"maxPayload":n}</c>.
    /// </summary>
    public static void WriteOpen(IBufferWriter<byte> output, string sid, ReadOnlySpan<string> upgrades,
        long pingIntervalMs, long pingTimeoutMs, long maxPayload)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write("0"u8);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString(s_sid, sid);
        json.WriteStartArray(s_upgrades);
        foreach (var upgrade in upgrades)
        {
            json.WriteStringValue(upgrade);
        }

        json.WriteEndArray();
        json.WriteNumber(s_pingInterval, pingIntervalMs);
        json.WriteNumber(s_pingTimeout, pingTimeoutMs);
        json.WriteNumber(s_maxPayload, maxPayload);
        json.WriteEndObject();
    }

    /// <summary>Writes a text packet: its type digit followed by <paramref name="data"/>.</summary>
    public static void WritePacket(IBufferWriter<byte> output, EnginePacketType type, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(data.Length + 1);
        span[0] = (byte)('0' + (int)type);
        data.CopyTo(span[1..]);
        output.Advance(data.Length + 1);
    }

    /// <summary>The long-polling form of a binary packet's length: <c>b</c> + base64.</summary>
    public static int GetPollingBinaryLength(int dataLength) => 1 + Base64.GetMaxEncodedToUtf8Length(dataLength);

    /// <summary>Writes a binary packet in its long-polling form (<c>b</c> + base64) into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int WritePollingBinary(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        destination[0] = EngineLiterals.Base64Prefix;
        Base64.EncodeToUtf8(data, destination[1..], out _, out var written);
        return written + 1;
    }

    /// <summary>Writes a binary packet in its long-polling form (<c>b</c> + base64).</summary>
    public static void WritePollingBinary(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        var length = GetPollingBinaryLength(data.Length);
        output.Advance(WritePollingBinary(data, output.GetSpan(length)));
    }

    /// <summary>A binary packet in its long-polling form, as a new array (to cache and reuse for a broadcast).</summary>
    public static byte[] EncodePollingBinary(ReadOnlySpan<byte> data)
    {
        var result = new byte[GetPollingBinaryLength(data.Length)];
        WritePollingBinary(data, result);
        return result;
    }

    /// <summary>Writes the record separator between two packets of a long-polling payload.</summary>
    public static void WriteSeparator(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.GetSpan(1)[0] = EngineLiterals.RecordSeparator;
        output.Advance(1);
    }
}
