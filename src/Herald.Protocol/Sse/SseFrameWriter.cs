using System.Buffers;
using System.Buffers.Text;

namespace Herald.Protocol.Sse;

/// <summary>
/// Writes Server-Sent Events frames (the <c>text/event-stream</c> format of the HTML standard) into an
/// <see cref="IBufferWriter{T}"/>. Pure functions, no I/O: a broadcast builds its frame once and the same
/// bytes are written to every client.
/// </summary>
/// <remarks>
/// <para>Wire format, UTF-8, one field per line, a blank line ends an event:</para>
/// <code>
/// id: 42
/// event: greeting
/// data: first line
/// data: second line
/// retry: 3000
/// : a comment (ignored by EventSource, keeps proxies from timing out)
///
/// </code>
/// <para>A reader accepts CRLF, CR or LF as line ends; we always write LF. Data containing any of the three
/// is split into one <c>data:</c> line per line, which the reader joins back with LF — so CRLF and CR in data
/// arrive as LF, the only lossy case and one the format cannot express. A reader strips exactly one space
/// after the colon, so we always write <c>"data: "</c> before a non-empty line: a value that itself starts with
/// a space survives. An empty data value is written as <c>data:</c>, which dispatches an event whose data is
/// the empty string (an event with no data line at all is not dispatched).</para>
/// <para>Event names and ids cannot contain CR or LF (ids also no NUL, which makes a reader ignore the id);
/// <see cref="IsValidEventName"/> and <see cref="IsValidId"/> check that and the writer throws on them.</para>
/// </remarks>
public static class SseFrameWriter
{
    private static ReadOnlySpan<byte> IdPrefix => "id: "u8;
    private static ReadOnlySpan<byte> EventPrefix => "event: "u8;
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> EmptyData => "data:\n"u8;
    private static ReadOnlySpan<byte> RetryPrefix => "retry: "u8;
    private static ReadOnlySpan<byte> CommentPrefix => ": "u8;
    private static ReadOnlySpan<byte> EmptyComment => ":\n"u8;

    /// <summary>The length of the longest id/event/comment value this writer accepts (a guard, not a protocol limit).</summary>
    public const int MaxFieldLength = 4096;

    /// <summary>Writes a whole event: optional <c>id:</c>, optional <c>event:</c>, the data lines and the blank line that dispatches it.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="id">UTF-8 event id, or empty for none.</param>
    /// <param name="eventName">UTF-8 event type, or empty for the default <c>message</c> type.</param>
    /// <param name="data">UTF-8 data; line ends (CRLF, CR, LF) split it into several <c>data:</c> lines.</param>
    public static void WriteEvent(IBufferWriter<byte> output, ReadOnlySpan<byte> id, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!id.IsEmpty)
        {
            WriteId(output, id);
        }

        WriteEventBody(output, eventName, data);
    }

    /// <summary>
    /// Writes an event without its id: optional <c>event:</c>, the data lines and the terminating blank line. The
    /// server writes a per-client <c>id:</c> line followed by this shared body, so the body is encoded once.
    /// </summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="eventName">UTF-8 event type, or empty for the default <c>message</c> type.</param>
    /// <param name="data">UTF-8 data.</param>
    public static void WriteEventBody(IBufferWriter<byte> output, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!eventName.IsEmpty)
        {
            if (!IsValidEventName(eventName))
            {
                ThrowInvalid(nameof(eventName));
            }

            WriteField(output, EventPrefix, eventName);
        }

        WriteData(output, data);
        WriteLineEnd(output);
    }

    /// <summary>Writes the <c>data:</c> lines for <paramref name="data"/> (no terminating blank line).</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="data">UTF-8 data.</param>
    public static void WriteData(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (data.IsEmpty)
        {
            Write(output, EmptyData);
            return;
        }

        // A trailing line end yields a final empty line, which the reader needs to reproduce it:
        // "a\n" -> "data: a\ndata:\n" -> buffer "a\n\n" -> the reader drops the last LF -> "a\n".
        WriteLines(output, DataPrefix, EmptyData, data);
    }

    /// <summary>Writes an <c>id:</c> line.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="id">UTF-8 id without CR, LF or NUL.</param>
    public static void WriteId(IBufferWriter<byte> output, ReadOnlySpan<byte> id)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!IsValidId(id))
        {
            ThrowInvalid(nameof(id));
        }

        WriteField(output, IdPrefix, id);
    }

    /// <summary>Writes a <c>retry:</c> line: the reconnection delay an EventSource uses from then on.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="retryMilliseconds">Delay in milliseconds, zero or more.</param>
    public static void WriteRetry(IBufferWriter<byte> output, long retryMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(retryMilliseconds);
        var span = output.GetSpan(RetryPrefix.Length + 21);
        RetryPrefix.CopyTo(span);
        Utf8Formatter.TryFormat(retryMilliseconds, span[RetryPrefix.Length..], out var written);
        var length = RetryPrefix.Length + written;
        span[length++] = (byte)'\n';
        output.Advance(length);
    }

    /// <summary>
    /// Writes a comment (lines starting with a colon, ignored by readers). Multi-line text becomes one comment
    /// line per line. A comment alone followed by <see cref="WriteLineEnd"/> is a heartbeat.
    /// </summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="text">UTF-8 text; may be empty (writes <c>:</c>).</param>
    public static void WriteComment(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (text.IsEmpty)
        {
            Write(output, EmptyComment);
            return;
        }

        WriteLines(output, CommentPrefix, EmptyComment, text);
    }

    /// <summary>Writes the blank line that ends (dispatches) an event.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteLineEnd(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(1);
        span[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>Builds a whole event into a new exact-size array: the encode-once form shared by many clients.</summary>
    /// <param name="id">UTF-8 event id, or empty.</param>
    /// <param name="eventName">UTF-8 event type, or empty.</param>
    /// <param name="data">UTF-8 data.</param>
    /// <returns>The frame bytes.</returns>
    public static byte[] Encode(ReadOnlySpan<byte> id, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        var writer = new ArrayBufferWriter<byte>(GetMaxEventLength(id.Length, eventName.Length, data));
        WriteEvent(writer, id, eventName, data);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>An upper bound of the bytes <see cref="WriteEvent"/> writes, to size a buffer once.</summary>
    /// <param name="idLength">Length of the id in bytes.</param>
    /// <param name="eventNameLength">Length of the event name in bytes.</param>
    /// <param name="data">The data to be written.</param>
    /// <returns>The bound.</returns>
    public static int GetMaxEventLength(int idLength, int eventNameLength, ReadOnlySpan<byte> data)
    {
        // Each line end in data (counting CRLF as one) costs one "data: " prefix and one LF.
        var lines = 1 + data.Count((byte)'\n') + data.Count((byte)'\r');
        return IdPrefix.Length + idLength + 1 + EventPrefix.Length + eventNameLength + 1 + data.Length + (lines * (DataPrefix.Length + 1)) + 1;
    }

    /// <summary>True when <paramref name="eventName"/> can be written: no CR or LF, at most <see cref="MaxFieldLength"/> bytes.</summary>
    /// <param name="eventName">UTF-8 event type.</param>
    /// <returns>Whether the name is valid.</returns>
    public static bool IsValidEventName(ReadOnlySpan<byte> eventName)
        => eventName.Length <= MaxFieldLength && !eventName.ContainsAny((byte)'\r', (byte)'\n');

    /// <summary>True when <paramref name="id"/> can be written: no CR, LF or NUL (a reader ignores an id with NUL), at most <see cref="MaxFieldLength"/> bytes.</summary>
    /// <param name="id">UTF-8 id.</param>
    /// <returns>Whether the id is valid.</returns>
    public static bool IsValidId(ReadOnlySpan<byte> id)
        => id.Length <= MaxFieldLength && !id.ContainsAny((byte)'\r', (byte)'\n', (byte)0);

    /// <summary>True when the UTF-16 <paramref name="value"/> is a valid id or event name (no CR, LF or NUL).</summary>
    /// <param name="value">The value to check.</param>
    /// <returns>Whether the value is valid.</returns>
    public static bool IsValidField(ReadOnlySpan<char> value)
        => value.Length <= MaxFieldLength && !value.ContainsAny('\r', '\n', '\0');

    private static void WriteLines(IBufferWriter<byte> output, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> emptyLine, ReadOnlySpan<byte> text)
    {
        while (true)
        {
            var end = text.IndexOfAny((byte)'\r', (byte)'\n');
            var line = end < 0 ? text : text[..end];
            if (line.IsEmpty)
            {
                Write(output, emptyLine);
            }
            else
            {
                WriteField(output, prefix, line);
            }

            if (end < 0)
            {
                return;
            }

            // CRLF is one line end; a lone CR or LF is one too.
            var skip = text[end] == (byte)'\r' && end + 1 < text.Length && text[end + 1] == (byte)'\n' ? 2 : 1;
            text = text[(end + skip)..];
        }
    }

    private static void WriteField(IBufferWriter<byte> output, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> value)
    {
        var length = prefix.Length + value.Length + 1;
        var span = output.GetSpan(length);
        prefix.CopyTo(span);
        value.CopyTo(span[prefix.Length..]);
        span[length - 1] = (byte)'\n';
        output.Advance(length);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowInvalid(string name)
        => throw new ArgumentException("An SSE field cannot contain CR, LF or NUL, nor be longer than " + MaxFieldLength + " bytes.", name);
}
