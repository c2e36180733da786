using System.Buffers;
using System.Buffers.Text;

namespace Herald.Protocol.EngineIO;

/// <summary>
/// Parses Engine.IO v4 packets: the HTTP long-polling payload (packets separated by <c>\x1e</c>, binary
/// packets as <c>b</c> + base64) and single WebSocket frames (one packet per frame, binary as is).
/// </summary>
public static class EnginePacketParser
{
    /// <summary>
    /// Reads the next packet of a complete long-polling payload (a POST body) and advances
    /// <paramref name="buffer"/> past it and its separator.
    /// </summary>
    /// <returns>False when <paramref name="buffer"/> is empty (no packet left).</returns>
    /// <exception cref="InvalidDataException">
    /// The payload is malformed: an empty packet (including a trailing separator), an unknown packet type or
    /// invalid base64.
    /// </exception>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out EnginePacket packet)
    {
        if (buffer.IsEmpty)
        {
            packet = default;
            return false;
        }

        ReadOnlySequence<byte> packetBytes;
        if (buffer.IsSingleSegment)
        {
            var index = buffer.FirstSpan.IndexOf(EngineLiterals.RecordSeparator);
            if (index < 0)
            {
                packetBytes = buffer;
                buffer = buffer.Slice(buffer.End);
            }
            else
            {
                packetBytes = buffer.Slice(0, index);
                buffer = buffer.Slice(index + 1);
                if (buffer.IsEmpty)
                {
                    // "4a\x1e": the packet after the last separator is empty.
                    EngineThrowHelper.ThrowEmptyPacket();
                }
            }
        }
        else
        {
            var position = buffer.PositionOf(EngineLiterals.RecordSeparator);
            if (position is null)
            {
                packetBytes = buffer;
                buffer = buffer.Slice(buffer.End);
            }
            else
            {
                packetBytes = buffer.Slice(0, position.Value);
                buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
                if (buffer.IsEmpty)
                {
                    EngineThrowHelper.ThrowEmptyPacket();
                }
            }
        }

        packet = ParsePollingPacket(packetBytes);
        return true;
    }

    /// <summary>
    /// Parses one WebSocket frame (a whole message). A binary frame is a binary message as is; a text
    /// frame is <c>&lt;type digit&gt;[data]</c>.
    /// </summary>
    /// <returns>False when the frame is malformed (empty text frame or unknown packet type).</returns>
    public static bool TryParseFrame(ReadOnlySpan<byte> frame, bool isBinaryFrame, out EnginePacketType type, out ReadOnlySpan<byte> data)
    {
        if (isBinaryFrame)
        {
            type = EnginePacketType.Message;
            data = frame;
            return true;
        }

        if (frame.IsEmpty || !TryGetType(frame[0], out type))
        {
            type = default;
            data = default;
            return false;
        }

        data = frame[1..];
        return true;
    }

    /// <summary>Maps a type digit (<c>'0'</c>..<c>'6'</c>) to its packet type.</summary>
    public static bool TryGetType(byte digit, out EnginePacketType type)
    {
        var value = (uint)(digit - (byte)'0');
        if (value <= (uint)EnginePacketType.Noop)
        {
            type = (EnginePacketType)value;
            return true;
        }

        type = default;
        return false;
    }

    private static EnginePacket ParsePollingPacket(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            EngineThrowHelper.ThrowEmptyPacket();
        }

        // The first segment may be empty (a sequence can start with an empty segment).
        var first = bytes.FirstSpan.Length > 0 ? bytes.FirstSpan[0] : FirstByte(bytes);
        var data = bytes.Slice(1);
        if (first == EngineLiterals.Base64Prefix)
        {
            if (!IsValidBase64(data))
            {
                EngineThrowHelper.ThrowInvalidBase64();
            }

            return new EnginePacket(EnginePacketType.Message, data, isBinary: true, isBase64: true);
        }

        if (!TryGetType(first, out var type))
        {
            EngineThrowHelper.ThrowUnknownPacketType(first);
        }

        return new EnginePacket(type, data, isBinary: false, isBase64: false);
    }

    private static byte FirstByte(ReadOnlySequence<byte> bytes)
    {
        Span<byte> one = stackalloc byte[1];
        bytes.Slice(0, 1).CopyTo(one);
        return one[0];
    }

    // Strict base64: whole 4-byte groups, padding only at the end (Base64.IsValid alone tolerates whitespace,
    // which no Engine.IO encoder produces).
    private static bool IsValidBase64(ReadOnlySequence<byte> data)
    {
        if (data.Length % 4 != 0)
        {
            return false;
        }

        if (data.IsSingleSegment)
        {
            return IsValidBase64(data.FirstSpan);
        }

        var length = checked((int)data.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            data.CopyTo(rented);
            return IsValidBase64(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool IsValidBase64(ReadOnlySpan<byte> data)
        => data.IndexOfAny((byte)' ', (byte)'\t', (byte)'\r') < 0 && data.IndexOf((byte)'\n') < 0 && Base64.IsValid(data);
}
