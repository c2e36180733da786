using System.Buffers;
using System.Buffers.Text;

namespace Herald.Redis.Resp;

/// <summary>Bounds on replies, so a broken or hostile server costs bounded memory.</summary>
internal sealed class RespLimits
{
    public static RespLimits Default { get; } = new();

    /// <summary>The longest bulk string (<c>$len</c>), default 512 MiB like Redis' proto-max-bulk-len.</summary>
    public long MaxBulkLength { get; init; } = 512L * 1024 * 1024;

    /// <summary>The longest simple line (<c>+</c>, <c>-</c>, <c>:</c> ...), default 64 KiB.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    /// <summary>The most elements in one aggregate, default 16M.</summary>
    public int MaxAggregateLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>The deepest nesting of aggregates, default 32.</summary>
    public int MaxDepth { get; init; } = 32;
}

/// <summary>
/// Parses RESP2 and RESP3 replies from a <see cref="ReadOnlySequence{T}"/> (a pipe's buffer), whatever
/// the segment boundaries. Wire format: a type byte, then a line ended by CRLF; bulk types
/// (<c>$ ! =</c>) follow the line with <i>len</i> bytes and CRLF; aggregate types (<c>* ~ &gt; % |</c>)
/// follow it with <i>n</i> values (2n for maps and attributes). RESP3 attributes (<c>|</c>) are read
/// and dropped: they annotate the value that follows.
/// </summary>
internal static class RespReader
{
    /// <summary>
    /// Reads one complete value from the start of <paramref name="buffer"/>. Returns false when more
    /// bytes are needed (the buffer is left as is); on success <paramref name="buffer"/> starts after
    /// the value. Throws <see cref="RespProtocolException"/> on malformed input.
    /// </summary>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out RespValue value, RespLimits? limits = null)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryRead(ref reader, out value, limits ?? RespLimits.Default, 0))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryRead(ref SequenceReader<byte> reader, out RespValue value, RespLimits limits, int depth)
    {
        value = default;
        while (true)
        {
            if (!reader.TryRead(out var type))
            {
                return false;
            }

            if (!TryReadLine(ref reader, limits, out var line))
            {
                return false;
            }

            switch (type)
            {
                case (byte)'+':
                    value = new RespValue(RespType.SimpleString, 0, line, null);
                    return true;
                case (byte)'-':
                    value = new RespValue(RespType.Error, 0, line, null);
                    return true;
                case (byte)':':
                    value = new RespValue(RespType.Integer, ParseInteger(line), default, null);
                    return true;
                case (byte)'_':
                    if (!line.IsEmpty)
                    {
                        throw new RespProtocolException("RESP3 null with content");
                    }

                    value = new RespValue(RespType.Null, 0, default, null);
                    return true;
                case (byte)'#':
                    value = new RespValue(RespType.Boolean, ParseBoolean(line), default, null);
                    return true;
                case (byte)',':
                case (byte)'(':
                    value = new RespValue(RespType.Number, 0, line, null);
                    return true;
                case (byte)'$':
                    return TryReadBulk(ref reader, line, RespType.BulkString, limits, 0, out value);
                case (byte)'!':
                    return TryReadBulk(ref reader, line, RespType.Error, limits, 0, out value);
                case (byte)'=':
                    // Verbatim string: "txt:" or "mkd:" then the text.
                    return TryReadBulk(ref reader, line, RespType.BulkString, limits, 4, out value);
                case (byte)'*':
                case (byte)'~':
                    return TryReadAggregate(ref reader, line, RespType.Array, 1, limits, depth, out value);
                case (byte)'%':
                    return TryReadAggregate(ref reader, line, RespType.Array, 2, limits, depth, out value);
                case (byte)'>':
                    return TryReadAggregate(ref reader, line, RespType.Push, 1, limits, depth, out value);
                case (byte)'|':
                    if (!TryReadAggregate(ref reader, line, RespType.Array, 2, limits, depth, out _))
                    {
                        return false;
                    }

                    continue; // the attribute annotates the next value, which is the reply
                default:
                    throw new RespProtocolException($"unknown RESP type byte 0x{type:x2}");
            }
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, RespLimits limits, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, (byte)'\n'))
        {
            if (line.IsEmpty || !EndsWithCarriageReturn(line))
            {
                throw new RespProtocolException("line not ended by CRLF");
            }

            line = line.Slice(0, line.Length - 1);
            if (line.Length > limits.MaxLineLength)
            {
                throw new RespProtocolException($"line over {limits.MaxLineLength} bytes");
            }

            return true;
        }

        if (reader.Remaining > limits.MaxLineLength + 2)
        {
            throw new RespProtocolException($"line over {limits.MaxLineLength} bytes");
        }

        return false;
    }

    private static bool EndsWithCarriageReturn(ReadOnlySequence<byte> line)
    {
        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, ReadOnlySequence<byte> line, RespType type, RespLimits limits, int skip, out RespValue value)
    {
        value = default;
        var length = ParseInteger(line);
        if (length == -1 && skip == 0)
        {
            value = new RespValue(RespType.Null, 0, default, null);
            return true;
        }

        if (length < skip || length > limits.MaxBulkLength)
        {
            throw new RespProtocolException($"bulk length {length} out of range");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        var bytes = reader.UnreadSequence.Slice(skip, length - skip);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RespProtocolException("bulk string not ended by CRLF");
        }

        value = new RespValue(type, 0, bytes, null);
        return true;
    }

    private static bool TryReadAggregate(ref SequenceReader<byte> reader, ReadOnlySequence<byte> line, RespType type, int perEntry, RespLimits limits, int depth, out RespValue value)
    {
        value = default;
        var count = ParseInteger(line);
        if (count == -1)
        {
            value = new RespValue(RespType.Null, 0, default, null);
            return true;
        }

        if (count < 0 || count > limits.MaxAggregateLength / perEntry)
        {
            throw new RespProtocolException($"aggregate length {count} out of range");
        }

        if (depth >= limits.MaxDepth)
        {
            throw new RespProtocolException($"aggregates nested deeper than {limits.MaxDepth}");
        }

        var total = (int)count * perEntry;

        // Every element takes at least 3 bytes ("_\r\n"): do not allocate for elements that have not arrived.
        if (reader.Remaining < total * 3L)
        {
            return false;
        }

        var items = total == 0 ? [] : new RespValue[total];
        for (var i = 0; i < total; i++)
        {
            if (!TryRead(ref reader, out items[i], limits, depth + 1))
            {
                return false;
            }
        }

        value = new RespValue(type, 0, default, items);
        return true;
    }

    private static long ParseInteger(ReadOnlySequence<byte> line)
    {
        Span<byte> copy = stackalloc byte[20];
        scoped ReadOnlySpan<byte> span;
        if (line.IsSingleSegment)
        {
            span = line.FirstSpan;
        }
        else if (line.Length <= copy.Length)
        {
            line.CopyTo(copy);
            span = copy[..(int)line.Length];
        }
        else
        {
            throw new RespProtocolException("integer too long");
        }

        if (!Utf8Parser.TryParse(span, out long result, out var consumed) || consumed != span.Length || span.IsEmpty)
        {
            throw new RespProtocolException("malformed integer");
        }

        return result;
    }

    private static long ParseBoolean(ReadOnlySequence<byte> line)
    {
        if (line.Length == 1)
        {
            var b = line.FirstSpan[0];
            if (b == (byte)'t')
            {
                return 1;
            }

            if (b == (byte)'f')
            {
                return 0;
            }
        }

        throw new RespProtocolException("malformed boolean");
    }
}
