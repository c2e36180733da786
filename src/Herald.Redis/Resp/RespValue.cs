using System.Buffers;
using System.Text;

namespace Herald.Redis.Resp;

/// <summary>The RESP2/RESP3 type of a <see cref="RespValue"/>, by its leading byte.</summary>
internal enum RespType : byte
{
    /// <summary><c>+OK</c></summary>
    SimpleString,

    /// <summary><c>-ERR ...</c> and RESP3 <c>!len</c> bulk errors.</summary>
    Error,

    /// <summary><c>:42</c></summary>
    Integer,

    /// <summary><c>$len</c> and RESP3 <c>=len</c> verbatim strings (format prefix removed).</summary>
    BulkString,

    /// <summary><c>*n</c>, RESP3 <c>~n</c> sets and <c>%n</c> maps (keys and values alternate).</summary>
    Array,

    /// <summary>RESP3 <c>&gt;n</c> out-of-band push.</summary>
    Push,

    /// <summary><c>$-1</c>, <c>*-1</c>, RESP3 <c>_</c>.</summary>
    Null,

    /// <summary>RESP3 <c>#t</c>/<c>#f</c> (in <see cref="RespValue.Integer"/> as 1/0).</summary>
    Boolean,

    /// <summary>RESP3 <c>,3.14</c> and <c>(123...</c> big numbers, kept as text.</summary>
    Number,
}

/// <summary>
/// One parsed RESP value. <see cref="Bytes"/> slices the buffer it was parsed from: it is only valid
/// until that buffer is advanced past.
/// </summary>
internal readonly struct RespValue(RespType type, long integer, ReadOnlySequence<byte> bytes, RespValue[]? items)
{
    public RespType Type { get; } = type;

    public long Integer { get; } = integer;

    public ReadOnlySequence<byte> Bytes { get; } = bytes;

    public RespValue[]? Items { get; } = items;

    public bool IsAggregate => Type is RespType.Array or RespType.Push;

    /// <summary>True when this is a string whose bytes equal <paramref name="ascii"/> ignoring ASCII case.</summary>
    public bool TextEqualsIgnoreCase(ReadOnlySpan<byte> ascii)
    {
        if (Type is not (RespType.BulkString or RespType.SimpleString) || Bytes.Length != ascii.Length)
        {
            return false;
        }

        if (Bytes.IsSingleSegment)
        {
            return Ascii.EqualsIgnoreCase(Bytes.FirstSpan, ascii);
        }

        Span<byte> copy = ascii.Length <= 64 ? stackalloc byte[ascii.Length] : new byte[ascii.Length];
        Bytes.CopyTo(copy);
        return Ascii.EqualsIgnoreCase(copy, ascii);
    }

    public string GetString() => Encoding.UTF8.GetString(Bytes);

    public override string ToString() => Type switch
    {
        RespType.Integer or RespType.Boolean => $"{Type} {Integer}",
        RespType.Null => "Null",
        RespType.Array or RespType.Push => $"{Type}[{Items!.Length}]",
        _ => $"{Type} {GetString()}",
    };
}

/// <summary>The server sent something that is not RESP, or over a configured limit: the connection is dropped.</summary>
internal sealed class RespProtocolException(string message) : Exception(message)
{
}
