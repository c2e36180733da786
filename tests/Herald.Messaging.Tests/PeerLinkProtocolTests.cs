using System.Text;
using Herald.Messaging.PeerLinks;

namespace Herald.Messaging.Tests;

public sealed class PeerLinkProtocolTests
{
    [Theory]
    [InlineData("topic:greeting", null, "\"Hello\"")]
    [InlineData("topic:orders.created", "topic:orders.*", "{}")]
    [InlineData("ç:ü", "ç*", "")]
    public void MessageFrames_RoundTrip_AndEveryTruncationIsRejected(string channel, string? pattern, string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        var frame = new byte[PeerLinkProtocol.GetMessageLength(channel, pattern, bytes.Length)];
        PeerLinkProtocol.WriteMessage(frame, channel, pattern, bytes);

        Assert.True(PeerLinkProtocol.TryParseMessage(frame, out var c, out var p, out var offset));
        Assert.Equal(channel, Encoding.UTF8.GetString(c));
        Assert.Equal(pattern ?? "", Encoding.UTF8.GetString(p));
        Assert.Equal(payload, Encoding.UTF8.GetString(frame.AsSpan(offset)));
        var headerLength = frame.Length - bytes.Length;
        for (var i = 0; i < headerLength; i++)
        {
            Assert.False(PeerLinkProtocol.TryParseMessage(frame.AsSpan(0, i), out _, out _, out _));
        }
    }

    [Fact]
    public void PublishFrames_RoundTrip()
    {
        var frame = new byte[PeerLinkProtocol.GetPublishLength("sse", 2)];
        PeerLinkProtocol.WritePublish(frame, "sse", "{}"u8);
        Assert.Equal([0x01, 0x00, 0x03, (byte)'s', (byte)'s', (byte)'e', (byte)'{', (byte)'}'], frame);
        Assert.True(PeerLinkProtocol.TryParsePublish(frame, out var channel, out var offset));
        Assert.Equal("sse", Encoding.UTF8.GetString(channel));
        Assert.Equal(6, offset);
        Assert.False(PeerLinkProtocol.TryParsePublish([0x01, 0x00, 0x00], out _, out _));
    }

    [Fact]
    public void ControlFrames_ParseTheirMembers_AndIgnoreUnknownOnes()
    {
        Assert.True(PeerLinkProtocol.TryParseControl(PeerLinkProtocol.Subscribe(7, "orders.*", isPattern: true), out var subscribe));
        Assert.Equal(new ControlFrame("subscribe", 7, null, "orders.*", null, null), subscribe);
        Assert.True(PeerLinkProtocol.TryParseControl("""{"x":{"deep":[1,2]},"type":"subscribed","id":3,"future":true}"""u8, out var subscribed));
        Assert.Equal(("subscribed", 3L), (subscribed.Type, subscribed.Id!.Value));
        Assert.False(PeerLinkProtocol.TryParseControl("""{"id":3}"""u8, out _));
        Assert.False(PeerLinkProtocol.TryParseControl("""{"type":"a"""u8, out _));
    }
}
