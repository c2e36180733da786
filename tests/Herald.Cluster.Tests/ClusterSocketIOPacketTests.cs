using System.Text;
using Herald.Protocol.Cluster;
using Herald.Protocol.SocketIO;

namespace Herald.Cluster.Tests;

public class ClusterSocketIOPacketTests
{
    [Theory]
    [InlineData("/", -1, "42[\"ev\",1]", "{\"type\":2,\"data\":[\"ev\",1]}")]
    [InlineData("/chat", 12, "42/chat,12[\"ev\",{\"a\":[1]}]", "{\"type\":2,\"data\":[\"ev\",{\"a\":[1]}]}")]
    [InlineData("/c", 3, "451-/c,3[\"ev\",{\"_placeholder\":true,\"num\":0}]", "{\"type\":5,\"data\":[\"ev\",{\"_placeholder\":true,\"num\":0}]}")]
    public void AnEncodedEventBecomesTheEnvelopePacketAndBackWithThisNodesAckId(string ns, long id, string encoded, string packet)
    {
        Assert.Equal(packet, Encoding.UTF8.GetString(ClusterSocketIOPacket.ToEnvelopePacket(Encoding.UTF8.GetBytes(encoded), ns)));
        var attachments = encoded.Contains("_placeholder", StringComparison.Ordinal) ? 1 : 0;
        Assert.True(ClusterSocketIOPacket.TryToSocketIOText(Encoding.UTF8.GetBytes(packet), ns, attachments, id, out var text, out _));
        Assert.Equal(encoded, Encoding.UTF8.GetString(text));
    }

    [Fact]
    public void TheEncoderOutputRoundTrips()
    {
        var encoded = SocketIOPacketEncoder.EncodeEvent("/x", "hello", ["w", 2, new byte[] { 9 }], 7, SocketIOJson.DefaultOptions);
        var packet = ClusterSocketIOPacket.ToEnvelopePacket(encoded.Text, "/x");
        Assert.True(ClusterSocketIOPacket.TryToSocketIOText(packet, "/x", encoded.Attachments.Length, 7, out var text, out _));
        Assert.Equal(encoded.Text, text);
    }

    [Theory]
    [InlineData("/", "{\"type\":2,\"data\":[\"ev\"]}", 0, "42[\"ev\",\"Ab_c-7\"]")]
    [InlineData("/chat", "{\"type\":2,\"data\":[\"ev\",{\"a\":[1]}] }", 0, "42/chat,[\"ev\",{\"a\":[1]},\"Ab_c-7\"]")]
    [InlineData("/", "{\"data\":[\"ev\",{\"_placeholder\":true,\"num\":0}],\"type\":5}", 1, "451-[\"ev\",{\"_placeholder\":true,\"num\":0},\"Ab_c-7\"]")]
    public void AnOffsetIsAppendedAsTheLastArgument(string ns, string packet, int attachments, string expected)
    {
        Assert.True(ClusterSocketIOPacket.TryToSocketIOText(Encoding.UTF8.GetBytes(packet), ns, attachments, -1, "Ab_c-7", out var text, out _));
        Assert.Equal(expected, Encoding.UTF8.GetString(text));
    }

    [Fact]
    public void AnAppendedArgumentIsJsonEscaped()
    {
        Assert.True(ClusterSocketIOPacket.TryToSocketIOText("{\"type\":2,\"data\":[\"ev\"]}"u8, "/", 0, -1, "a\"]b", out var text, out _));
        Assert.Equal("42[\"ev\",\"a\\u0022]b\"]", Encoding.UTF8.GetString(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"type\":1,\"data\":[\"ev\"]}")]
    [InlineData("{\"type\":2}")]
    [InlineData("{\"type\":2,\"data\":[]}")]
    [InlineData("{\"type\":2,\"data\":[1,2]}")]
    [InlineData("{\"type\":2,\"data\":\"ev\"}")]
    [InlineData("{\"type\":\"2\",\"data\":[\"ev\"]}")]
    [InlineData("{\"type\":2,\"data\":[\"ev\"")]
    public void APacketThatIsNotAnEventIsRefusedWithAReason(string packet)
    {
        Assert.False(ClusterSocketIOPacket.TryToSocketIOText(Encoding.UTF8.GetBytes(packet), "/", 0, -1, out var text, out var error));
        Assert.Null(text);
        Assert.False(string.IsNullOrEmpty(error));
    }
}
