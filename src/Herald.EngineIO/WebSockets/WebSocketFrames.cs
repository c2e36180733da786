using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Herald.EngineIO.WebSockets;

/// <summary>
/// Server-to-client frames (RFC 6455 §5.2): never masked, always final (Engine.IO sends one frame per
/// packet). A frame is <c>FIN|opcode</c>, then the length in 7 bits, or 126 + 16 bits, or 127 + 64 bits,
/// then the payload.
/// </summary>
internal static class WebSocketFrames
{
    public const byte OpContinuation = 0x0;
    public const byte OpText = 0x1;
    public const byte OpBinary = 0x2;
    public const byte OpClose = 0x8;
    public const byte OpPing = 0x9;
    public const byte OpPong = 0xA;

    /// <summary>The bytes a frame header takes for a payload of <paramref name="length"/> bytes.</summary>
    public static int HeaderLength(int length) => length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes a final, unmasked frame header; returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, byte opcode, int length)
    {
        destination[0] = (byte)(0x80 | opcode);
        if (length < 126)
        {
            destination[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        return 10;
    }

    /// <summary>A complete frame (header + payload) in a new array.</summary>
    public static byte[] Build(byte opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength(payload.Length) + payload.Length];
        payload.CopyTo(frame.AsSpan(WriteHeader(frame, opcode, payload.Length)));
        return frame;
    }

    /// <summary>
    /// The frame of a message, built on first use and cached on the message
    /// (<see cref="EngineMessage.TransportCache"/>): a broadcast's frame is built once and the same bytes
    /// are written to every WebSocket connection. Two connections racing to build it build equal bytes.
    /// </summary>
    public static byte[] GetFrame(EngineMessage message)
    {
        if (message.TransportCache is WebSocketFrame cached)
        {
            return cached.Bytes;
        }

        var frame = Build(message.IsBinary ? OpBinary : OpText, message.Payload.Span);
        message.TransportCache ??= new WebSocketFrame(frame);
        return frame;
    }

    /// <summary>
    /// XORs <paramref name="source"/> with the client's masking key into <paramref name="destination"/>,
    /// 8 bytes at a time. <paramref name="mask"/> holds the key's 4 bytes read little-endian;
    /// <paramref name="maskOffset"/> is the payload position of source[0] (frames may arrive split).
    /// </summary>
    public static void Unmask(ReadOnlySpan<byte> source, Span<byte> destination, uint mask, int maskOffset)
    {
        // Byte i of the source meets key byte (maskOffset + i) % 4, the low byte of the rotated key shifted by i % 4.
        var rotated = System.Numerics.BitOperations.RotateRight(mask, (maskOffset & 3) * 8);
        var i = 0;
        if (BitConverter.IsLittleEndian && source.Length >= 8)
        {
            var whole = source.Length & ~7;
            var wide = ((ulong)rotated << 32) | rotated;
            var src = MemoryMarshal.Cast<byte, ulong>(source[..whole]);
            var dst = MemoryMarshal.Cast<byte, ulong>(destination[..whole]);
            for (var k = 0; k < src.Length; k++)
            {
                dst[k] = src[k] ^ wide;
            }

            i = whole;
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (byte)(source[i] ^ (byte)(rotated >> ((i & 3) * 8)));
        }
    }

    /// <summary>The cached frame of a message (a distinct type, so the polling transport's cache is never mistaken for it).</summary>
    private sealed class WebSocketFrame(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;
    }
}
