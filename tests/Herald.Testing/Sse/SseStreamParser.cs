using System.Text;

namespace Herald.Testing.Sse;

/// <summary>One item read from an event stream: a dispatched event, or a comment line.</summary>
/// <param name="Type">Event type (<c>message</c> when none was given); <c>null</c> for a comment.</param>
/// <param name="Data">Event data, or the comment text.</param>
/// <param name="LastEventId">The last event id as EventSource reports it with this event.</param>
public sealed record SseTestEvent(string? Type, string Data, string LastEventId)
{
    public bool IsComment => Type is null;
}

/// <summary>
/// A push parser for <c>text/event-stream</c> that follows the HTML standard's "interpret an event stream"
/// algorithm, as a browser's EventSource does: CR, LF and CRLF line ends (also split across chunks), one space
/// stripped after the colon, data lines joined with LF, the last LF dropped, events with no data not
/// dispatched, ids containing NUL ignored, <c>retry:</c> only when all digits.
/// </summary>
public sealed class SseStreamParser
{
    private readonly List<byte> _line = [];
    private readonly StringBuilder _data = new();
    private string _eventType = "";
    private bool _skipLf;
    private bool _bomChecked;

    public string LastEventId { get; private set; } = "";

    public long? Retry { get; private set; }

    /// <summary>Feeds bytes; completed events and comments are appended to <paramref name="into"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<SseTestEvent> into)
    {
        foreach (var b in bytes)
        {
            if (_skipLf)
            {
                _skipLf = false;
                if (b == (byte)'\n')
                {
                    continue;
                }
            }

            if (b == (byte)'\r' || b == (byte)'\n')
            {
                _skipLf = b == (byte)'\r';
                ProcessLine(into);
                _line.Clear();
            }
            else
            {
                _line.Add(b);
            }
        }
    }

    private void ProcessLine(List<SseTestEvent> into)
    {
        var bytes = _line.ToArray().AsSpan();
        if (!_bomChecked)
        {
            _bomChecked = true;
            if (bytes.StartsWith("\uFEFF"u8))
            {
                bytes = bytes[3..];
            }
        }

        var line = Encoding.UTF8.GetString(bytes);
        if (line.Length == 0)
        {
            Dispatch(into);
            return;
        }

        if (line[0] == ':')
        {
            var text = line.Length > 1 && line[1] == ' ' ? line[2..] : line[1..];
            into.Add(new SseTestEvent(null, text, LastEventId));
            return;
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        string field, value;
        if (colon < 0)
        {
            field = line;
            value = "";
        }
        else
        {
            field = line[..colon];
            value = colon + 1 < line.Length && line[colon + 1] == ' ' ? line[(colon + 2)..] : line[(colon + 1)..];
        }

        switch (field)
        {
            case "event":
                _eventType = value;
                break;
            case "data":
                _data.Append(value).Append('\n');
                break;
            case "id":
                if (!value.Contains('\0', StringComparison.Ordinal))
                {
                    LastEventId = value;
                }

                break;
            case "retry":
                if (value.Length > 0 && value.All(char.IsAsciiDigit))
                {
                    Retry = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                }

                break;
        }
    }

    private void Dispatch(List<SseTestEvent> into)
    {
        if (_data.Length == 0)
        {
            _eventType = "";
            return;
        }

        var data = _data.ToString(0, _data.Length - 1);
        into.Add(new SseTestEvent(_eventType.Length == 0 ? "message" : _eventType, data, LastEventId));
        _data.Clear();
        _eventType = "";
    }
}
