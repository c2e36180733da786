using System.Text;
using System.Text.Json;
using Herald.Protocol.SocketIO;

namespace Herald.Protocol.Tests.SocketIO;

public class SocketIOEncoderTests
{
    private static readonly JsonSerializerOptions Options = SocketIOJson.DefaultOptions;

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void EncodesTheSpecificationExamples()
    {
        Assert.Equal("0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", Text(SocketIOPacketEncoder.EncodeConnect("/admin", "oSO0OpakMV_3jnilAAAA", enginePrefix: false)));
        Assert.Equal("40{\"sid\":\"abc\"}", Text(SocketIOPacketEncoder.EncodeConnect("/", "abc")));
        Assert.Equal("4{\"message\":\"Not authorized\"}", Text(SocketIOPacketEncoder.EncodeConnectError("/", "Not authorized", null, Options, enginePrefix: false)));
        Assert.Equal("44/random,{\"message\":\"Invalid namespace\"}", Text(SocketIOPacketEncoder.EncodeConnectError("/random", "Invalid namespace", null, Options)));
        Assert.Equal("2[\"foo\"]", Text(SocketIOPacketEncoder.EncodeEvent("/", "foo", [], -1, Options, enginePrefix: false).Text));
        Assert.Equal("42[\"foo\"]", Text(SocketIOPacketEncoder.EncodeEvent("/", "foo", [], -1, Options).Text));
        Assert.Equal("2/admin,[\"bar\"]", Text(SocketIOPacketEncoder.EncodeEvent("/admin", "bar", [], -1, Options, false).Text));
        Assert.Equal("212[\"foo\"]", Text(SocketIOPacketEncoder.EncodeEvent("/", "foo", [], 12, Options, false).Text));
        Assert.Equal("3/admin,13[\"bar\"]", Text(SocketIOPacketEncoder.EncodeAck("/admin", 13, ["bar"], Options, false).Text));
        Assert.Equal("1", Text(SocketIOPacketEncoder.EncodeDisconnect("/", false)));
        Assert.Equal("1/admin,", Text(SocketIOPacketEncoder.EncodeDisconnect("/admin", false)));
    }

    [Fact]
    public void BytesBecomePlaceholdersAndAttachments()
    {
        var single = SocketIOPacketEncoder.EncodeEvent("/", "baz", [new byte[] { 1, 2, 3, 4 }], -1, Options, false);
        Assert.Equal("51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", Text(single.Text));
        Assert.Single(single.Attachments);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, single.Attachments[0].ToArray());

        var two = SocketIOPacketEncoder.EncodeEvent("/admin", "baz", [new byte[] { 1, 2 }, new ReadOnlyMemory<byte>([3, 4])], -1, Options, false);
        Assert.Equal("52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", Text(two.Text));

        var ack = SocketIOPacketEncoder.EncodeAck("/", 15, ["bar", new byte[] { 1, 2, 3, 4 }], Options, false);
        Assert.Equal("61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]", Text(ack.Text));
    }

    [Fact]
    public void NestedBytesInTypedObjectsBecomeAttachments()
    {
        var encoded = SocketIOPacketEncoder.EncodeEvent("/", "file", [new FileMessage("a.bin", [9, 8], new Inner(new byte[] { 7 }))], -1, Options, false);
        Assert.Equal("52-[\"file\",{\"name\":\"a.bin\",\"content\":{\"_placeholder\":true,\"num\":0},\"inner\":{\"data\":{\"_placeholder\":true,\"num\":1}}}]", Text(encoded.Text));
        Assert.Equal(2, encoded.Attachments.Length);
    }

    [Fact]
    public void TypedRoundTripThroughTheDecoder()
    {
        var original = new FileMessage("caf\u00e9 <b>", [1, 2, 3], new Inner(new byte[] { 4 }));
        var encoded = SocketIOPacketEncoder.EncodeEvent("/files", "file", [original, 42, null, true], 7, Options);
        Assert.Equal((byte)'4', encoded.Text[0]);
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.NeedAttachments, decoder.Decode(encoded.Text.AsSpan(1), false, out _, out _));
        decoder.Decode(encoded.Attachments[0].Span, true, out _, out _);
        Assert.Equal(SocketIODecodeStatus.Packet, decoder.Decode(encoded.Attachments[1].Span, true, out var packet, out _));
        using (packet)
        {
            var back = SocketIOJson.Deserialize<FileMessage>(packet!.Data[1], packet.Attachments, Options)!;
            Assert.Equal(original.Name, back.Name);
            Assert.Equal(original.Content, back.Content);
            Assert.Equal(original.Inner.Data.ToArray(), back.Inner.Data.ToArray());
            Assert.Equal(42, packet.Data[2].GetInt32());
            Assert.Equal(JsonValueKind.Null, packet.Data[3].ValueKind);
            Assert.Equal(7, packet.Id);
        }
    }

    [Fact]
    public void NonAsciiIsWrittenAsUtf8LikeJsonStringify()
    {
        var encoded = SocketIOPacketEncoder.EncodeEvent("/", "msg", ["caf\u00e9 <b> & '"], -1, Options, false);
        Assert.Equal("2[\"msg\",\"caf\u00e9 <b> & '\"]", Text(encoded.Text));
    }

    [Fact]
    public void RawJsonArgumentRelaysBinaryWithRenumberedPlaceholders()
    {
        using var decoder = new SocketIODecoder();
        decoder.Decode("52-[\"m\",{\"_placeholder\":true,\"num\":1},{\"x\":{\"_placeholder\":true,\"num\":0}}]"u8, false, out _, out _);
        decoder.Decode(new byte[] { 0xA }, true, out _, out _);
        decoder.Decode(new byte[] { 0xB }, true, out var packet, out _);
        using (packet)
        {
            var args = new object?[] { new RawJsonArgument(packet!.Data[1], packet.Attachments), new RawJsonArgument(packet.Data[2], packet.Attachments) };
            var encoded = SocketIOPacketEncoder.EncodeEvent("/", "m-back", args, -1, Options, false);
            Assert.Equal("52-[\"m-back\",{\"_placeholder\":true,\"num\":0},{\"x\":{\"_placeholder\":true,\"num\":1}}]", Text(encoded.Text));
            Assert.Equal(new byte[] { 0xB }, encoded.Attachments[0].ToArray());
            Assert.Equal(new byte[] { 0xA }, encoded.Attachments[1].ToArray());
        }
    }

    [Fact]
    public void BytesOutsideAnEncodeAreBase64()
    {
        Assert.Equal("\"AQI=\"", JsonSerializer.Serialize(new byte[] { 1, 2 }, Options));
    }

    [Fact]
    public void ConnectErrorCarriesData()
    {
        var bytes = SocketIOPacketEncoder.EncodeConnectError("/", "refused", new { Reason = "no token" }, Options, false);
        Assert.Equal("4{\"message\":\"refused\",\"data\":{\"reason\":\"no token\"}}", Text(bytes));
    }

    [Fact]
    public void LargePayloadsAreEncodedAndTheScratchBufferIsNotKeptHuge()
    {
        var big = new string('x', 200_000);
        var first = SocketIOPacketEncoder.EncodeEvent("/", "big", [big], -1, Options, false);
        Assert.Equal(200_000 + 11, first.Text.Length);
        var small = SocketIOPacketEncoder.EncodeEvent("/", "s", [], -1, Options, false);
        Assert.Equal("2[\"s\"]", Text(small.Text));
    }

    private sealed record Inner(ReadOnlyMemory<byte> Data);

    private sealed record FileMessage(string Name, byte[] Content, Inner Inner);
}
