using System.Buffers.Text;
using System.Diagnostics;

namespace Herald.Bench.Generator;

/// <summary>
/// The message body every target relays verbatim as a JSON string:
/// <c>{seq}.{sender}.{timestamp}.xxxx…</c>, padded with 'x' to the requested size. The timestamp is
/// the generator's <see cref="Stopwatch"/> clock, so end-to-end latency needs no clock sync. Only
/// ASCII digits, '.', 'x': never escaped in JSON, so the receiver can cut it out of the frame without
/// a JSON parser.
/// </summary>
internal static class Payload
{
    public static int Write(Span<byte> destination, long seq, int sender, long timestamp, int size)
    {
        int n = 0;
        Utf8Formatter.TryFormat(seq, destination, out int w);
        n += w;
        destination[n++] = (byte)'.';
        Utf8Formatter.TryFormat(sender, destination[n..], out w);
        n += w;
        destination[n++] = (byte)'.';
        Utf8Formatter.TryFormat(timestamp, destination[n..], out w);
        n += w;
        destination[n++] = (byte)'.';
        if (n < size)
        {
            destination[n..size].Fill((byte)'x');
            n = size;
        }

        return n;
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out long seq, out int sender, out long timestamp)
    {
        sender = 0;
        timestamp = 0;
        if (!Utf8Parser.TryParse(payload, out seq, out int c) || c >= payload.Length)
        {
            return false;
        }

        payload = payload[(c + 1)..];
        if (!Utf8Parser.TryParse(payload, out sender, out c) || c >= payload.Length)
        {
            return false;
        }

        payload = payload[(c + 1)..];
        return Utf8Parser.TryParse(payload, out timestamp, out _);
    }
}
