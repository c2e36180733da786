using System.Buffers;
using System.Text;
using Herald.Protocol.Sse;
using Herald.Testing.Sse;

namespace Herald.Protocol.Tests.Sse;

public class SseFrameWriterTests
{
    private static string Write(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void WritesIdEventAndData()
    {
        var text = Write(w => SseFrameWriter.WriteEvent(w, U("7"), U("greeting"), U("Hello, World!")));
        Assert.Equal("id: 7\nevent: greeting\ndata: Hello, World!\n\n", text);
    }

    [Fact]
    public void OmitsEmptyIdAndEvent()
    {
        Assert.Equal("data: x\n\n", Write(w => SseFrameWriter.WriteEvent(w, default, default, U("x"))));
    }

    [Fact]
    public void EmptyDataIsOneBareDataLine()
    {
        Assert.Equal("data:\n\n", Write(w => SseFrameWriter.WriteEventBody(w, default, default)));
    }

    [Theory]
    [InlineData("a\nb", "data: a\ndata: b\n\n")]
    [InlineData("a\r\nb", "data: a\ndata: b\n\n")]
    [InlineData("a\rb", "data: a\ndata: b\n\n")]
    [InlineData("a\n\nb", "data: a\ndata:\ndata: b\n\n")]
    [InlineData("a\r\rb", "data: a\ndata:\ndata: b\n\n")]
    [InlineData("a\n\r\nb", "data: a\ndata:\ndata: b\n\n")]
    [InlineData("a\n", "data: a\ndata:\n\n")]
    [InlineData("\na", "data:\ndata: a\n\n")]
    [InlineData("\r", "data:\ndata:\n\n")]
    [InlineData("a\r", "data: a\ndata:\n\n")]
    [InlineData(" lead", "data:  lead\n\n")]
    [InlineData("x: y", "data: x: y\n\n")]
    public void SplitsDataOnEveryLineEnd(string data, string expected)
    {
        Assert.Equal(expected, Write(w => SseFrameWriter.WriteEventBody(w, default, U(data))));
    }

    public static TheoryData<string> RoundTripData => new()
    {
        "",
        "plain",
        "two\nlines",
        "trailing\n",
        "\nleading",
        "\n\n\n",
        " leading space",
        "  two spaces",
        ":colon first",
        "data: looks like a field",
        "unicode: héllo wörld — 你好 🚀",
        "{\"json\":[1,2,3],\n  \"nested\": {\"a\": \"b\"}}",
        "tab\there",
    };

    [Theory]
    [MemberData(nameof(RoundTripData))]
    public void RoundTripsThroughAnEventSourceParserAtEverySplit(string data)
    {
        var frame = SseFrameWriter.Encode(U("id-1"), U("evt"), U(data));
        foreach (var split in Herald.Testing.SplitReplay.AllSplits(frame))
        {
            var parser = new SseStreamParser();
            var events = new List<SseTestEvent>();
            foreach (var segment in split)
            {
                parser.Feed(segment.Span, events);
            }

            var e = Assert.Single(events);
            Assert.Equal("evt", e.Type);
            Assert.Equal(data, e.Data);
            Assert.Equal("id-1", e.LastEventId);
        }
    }

    [Theory]
    [InlineData("a\r\nb\rc", "a\nb\nc")]
    [InlineData("a\r", "a\n")]
    public void CrAndCrLfArriveAsLf(string data, string expected)
    {
        var parser = new SseStreamParser();
        var events = new List<SseTestEvent>();
        parser.Feed(SseFrameWriter.Encode(default, default, U(data)), events);
        Assert.Equal(expected, Assert.Single(events).Data);
        Assert.Equal("message", events[0].Type);
    }

    [Fact]
    public void WritesRetry()
    {
        Assert.Equal("retry: 3000\n", Write(w => SseFrameWriter.WriteRetry(w, 3000)));
        Assert.Equal("retry: 0\n", Write(w => SseFrameWriter.WriteRetry(w, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Write(w => SseFrameWriter.WriteRetry(w, -1)));
    }

    [Fact]
    public void WritesComments()
    {
        Assert.Equal(":\n\n", Write(w => { SseFrameWriter.WriteComment(w, default); SseFrameWriter.WriteLineEnd(w); }));
        Assert.Equal(": ping\n", Write(w => SseFrameWriter.WriteComment(w, U("ping"))));
        Assert.Equal(": a\n:\n: b\n", Write(w => SseFrameWriter.WriteComment(w, U("a\r\n\nb"))));
    }

    [Fact]
    public void ACommentIsNotAnEvent()
    {
        var parser = new SseStreamParser();
        var events = new List<SseTestEvent>();
        parser.Feed(U(": heartbeat\n\n"), events);
        var comment = Assert.Single(events);
        Assert.True(comment.IsComment);
        Assert.Equal("heartbeat", comment.Data);
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    public void RejectsIdsWithLineEndsOrNul(string id)
    {
        Assert.False(SseFrameWriter.IsValidId(U(id)));
        Assert.False(SseFrameWriter.IsValidField(id));
        Assert.Throws<ArgumentException>(() => Write(w => SseFrameWriter.WriteId(w, U(id))));
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    public void RejectsEventNamesWithLineEnds(string name)
    {
        Assert.False(SseFrameWriter.IsValidEventName(U(name)));
        Assert.Throws<ArgumentException>(() => Write(w => SseFrameWriter.WriteEventBody(w, U(name), U("x"))));
    }

    [Fact]
    public void RejectsOverlongFields()
    {
        var name = new byte[SseFrameWriter.MaxFieldLength + 1];
        name.AsSpan().Fill((byte)'a');
        Assert.Throws<ArgumentException>(() => Write(w => SseFrameWriter.WriteEventBody(w, name, U("x"))));
    }

    [Fact]
    public void EncodedLengthStaysWithinTheBound()
    {
        foreach (var data in new[] { "", "x", "\r\n\r\n", "\r\r\r", "\n\n\n\n", "a\rb\nc\r\nd" })
        {
            var frame = SseFrameWriter.Encode(U("1"), U("e"), U(data));
            Assert.True(frame.Length <= SseFrameWriter.GetMaxEventLength(1, 1, U(data)), data);
        }
    }

    [Fact]
    public void WritesIntoSmallSegments()
    {
        // A writer handing out tiny spans: every field must request what it needs from GetSpan.
        var writer = new ArrayBufferWriter<byte>(1);
        SseFrameWriter.WriteEvent(writer, U("12345"), U("event-name"), U(new string('x', 5000) + "\n" + "y"));
        var parser = new SseStreamParser();
        var events = new List<SseTestEvent>();
        parser.Feed(writer.WrittenSpan, events);
        Assert.Equal(new string('x', 5000) + "\ny", Assert.Single(events).Data);
    }
}
