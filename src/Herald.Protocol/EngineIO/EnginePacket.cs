using System.Buffers;
using System.Buffers.Text;

namespace Herald.Protocol.EngineIO;

/// <summary>
/// One parsed Engine.IO packet. <see cref="Data"/> points into the parsed buffer (no copy): it is only
/// valid as long as that buffer is.
/// </summary>
public readonly struct EnginePacket
{
    /// <summary>Creates a packet.</summary>
    /// <param name="type">The packet type.</param>
    /// <param name="data">The data after the type digit (text), the raw bytes (binary frame) or the base64 text after <c>b</c>.</param>
    /// <param name="isBinary">Whether the packet is a binary message.</param>
    /// <param name="isBase64">Whether <paramref name="data"/> is base64 text still to decode (long-polling binary).</param>
    public EnginePacket(EnginePacketType type, ReadOnlySequence<byte> data, bool isBinary, bool isBase64)
    {
        Type = type;
        Data = data;
        IsBinary = isBinary;
        IsBase64 = isBase64;
    }

    /// <summary>The packet type.</summary>
    public EnginePacketType Type { get; }

    /// <summary>
    /// The packet's data as it is on the wire: for text, the UTF-8 after the type digit; for a binary
    /// packet of a long-polling payload, the base64 text after <c>b</c> (see <see cref="IsBase64"/>).
    /// </summary>
    public ReadOnlySequence<byte> Data { get; }

    /// <summary>Whether the packet is a binary message (always of type <see cref="EnginePacketType.Message"/>).</summary>
    public bool IsBinary { get; }

    /// <summary>Whether <see cref="Data"/> still has to be base64-decoded (binary inside a long-polling payload).</summary>
    public bool IsBase64 { get; }

    /// <summary>The length of the data once decoded (base64 decoded for long-polling binary).</summary>
    public int GetDataLength()
    {
        if (!IsBase64)
        {
            return checked((int)Data.Length);
        }

        // Validated by the parser: a whole number of 4-byte groups, with at most two '=' of padding.
        var length = checked((int)Data.Length);
        var decoded = length / 4 * 3;
        if (length > 0)
        {
            var tail = Data.Slice(length - 2);
            Span<byte> last = stackalloc byte[2];
            tail.CopyTo(last);
            decoded -= last[1] == (byte)'=' ? (last[0] == (byte)'=' ? 2 : 1) : 0;
        }

        return decoded;
    }

    /// <summary>
    /// Copies the decoded data into <paramref name="destination"/>, which must hold at least
    /// <see cref="GetDataLength"/> bytes; returns the number of bytes written.
    /// </summary>
    public int CopyDataTo(Span<byte> destination)
    {
        if (!IsBase64)
        {
            Data.CopyTo(destination);
            return checked((int)Data.Length);
        }

        if (Data.IsSingleSegment)
        {
            return DecodeBase64(Data.FirstSpan, destination);
        }

        var length = checked((int)Data.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Data.CopyTo(rented);
            return DecodeBase64(rented.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int DecodeBase64(ReadOnlySpan<byte> base64, Span<byte> destination)
    {
        var status = Base64.DecodeFromUtf8(base64, destination, out _, out var written);
        if (status != OperationStatus.Done)
        {
            EngineThrowHelper.ThrowInvalidBase64();
        }

        return written;
    }
}
