using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Herald.Redis.Resp;

/// <summary>One argument of a command: text (UTF-8 encoded when written, optionally after a byte prefix), bytes, or an integer.</summary>
internal readonly struct RedisArgument
{
    private readonly byte[]? _prefix;
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _integer;
    private readonly byte _kind; // 0 text, 1 bytes, 2 integer

    private RedisArgument(byte[]? prefix, string? text, ReadOnlyMemory<byte> bytes, long integer, byte kind)
    {
        _prefix = prefix;
        _text = text;
        _bytes = bytes;
        _integer = integer;
        _kind = kind;
    }

    public static implicit operator RedisArgument(string text) => new(null, text, default, 0, 0);

    public static implicit operator RedisArgument(ReadOnlyMemory<byte> bytes) => new(null, null, bytes, 0, 1);

    public static implicit operator RedisArgument(byte[] bytes) => new(null, null, bytes, 0, 1);

    public static implicit operator RedisArgument(long integer) => new(null, null, default, integer, 2);

    /// <summary><paramref name="prefix"/> then the UTF-8 of <paramref name="text"/>, with no intermediate string.</summary>
    public static RedisArgument Prefixed(byte[] prefix, string text) => new(prefix, text, default, 0, 0);

    public void Write(IBufferWriter<byte> output)
    {
        switch (_kind)
        {
            case 0:
                var prefixLength = _prefix?.Length ?? 0;
                var length = prefixLength + Encoding.UTF8.GetByteCount(_text!);
                var span = RespWriter.BeginBulk(output, length);
                _prefix?.CopyTo(span);
                Encoding.UTF8.GetBytes(_text, span[prefixLength..length]);
                RespWriter.EndBulk(output, span, length);
                break;
            case 1:
                var bytes = _bytes.Span;
                var target = RespWriter.BeginBulk(output, bytes.Length);
                bytes.CopyTo(target);
                RespWriter.EndBulk(output, target, bytes.Length);
                break;
            default:
                Span<byte> digits = stackalloc byte[20];
                Utf8Formatter.TryFormat(_integer, digits, out var written);
                var text = RespWriter.BeginBulk(output, written);
                digits[..written].CopyTo(text);
                RespWriter.EndBulk(output, text, written);
                break;
        }
    }

    public override string ToString() => _kind switch
    {
        0 => (_prefix is null ? string.Empty : Encoding.UTF8.GetString(_prefix)) + _text,
        1 => $"<{_bytes.Length} bytes>",
        _ => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Writes commands as RESP arrays of bulk strings: <c>*N\r\n</c> then <c>$len\r\n bytes \r\n</c> per argument.</summary>
internal static class RespWriter
{
    public static void WriteCommand(IBufferWriter<byte> output, ReadOnlySpan<RedisArgument> arguments)
    {
        WriteHeader(output, (byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            argument.Write(output);
        }
    }

    /// <summary>
    /// Writes <c>$len\r\n</c> and returns a span of at least <paramref name="length"/> + 2 bytes whose
    /// first <paramref name="length"/> the caller fills; <see cref="EndBulk"/> adds the CRLF and commits.
    /// </summary>
    internal static Span<byte> BeginBulk(IBufferWriter<byte> output, int length)
    {
        WriteHeader(output, (byte)'$', length);
        return output.GetSpan(length + 2);
    }

    internal static void EndBulk(IBufferWriter<byte> output, Span<byte> span, int length)
    {
        span[length] = (byte)'\r';
        span[length + 1] = (byte)'\n';
        output.Advance(length + 2);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte type, int count)
    {
        var span = output.GetSpan(24);
        span[0] = type;
        Utf8Formatter.TryFormat(count, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(3 + written);
    }
}
