using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Protocol.SocketIO;
using Herald.Testing;

namespace Herald.Protocol.Tests.SocketIO;

public class SocketIODecoderTests
{
    public static TheoryData<string, int, string, long, string?> ValidPackets => new()
    {
        // packet, type, namespace, id, payload (re-serialized)
        { "0", 0, "/", -1, null },
        { "0{\"token\":\"123\"}", 0, "/", -1, "{\"token\":\"123\"}" },
        { "0/admin,", 0, "/admin", -1, null },
        { "0/admin", 0, "/admin", -1, null },
        { "0/admin,{\"token\":\"abc\"}", 0, "/admin", -1, "{\"token\":\"abc\"}" },
        { "1", 1, "/", -1, null },
        { "1/admin,", 1, "/admin", -1, null },
        { "1/custom", 1, "/custom", -1, null },
        { "2[\"foo\"]", 2, "/", -1, "[\"foo\"]" },
        { "2/admin,[\"bar\"]", 2, "/admin", -1, "[\"bar\"]" },
        { "212[\"foo\"]", 2, "/", 12, "[\"foo\"]" },
        { "2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", 2, "/", 456, "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]" },
        { "2/admin,1[\"tellme\"]", 2, "/admin", 1, "[\"tellme\"]" },
        { "2[42,\"numeric event name\"]", 2, "/", -1, "[42,\"numeric event name\"]" },
        { "2[\"caf\u00e9 \u2603\"]", 2, "/", -1, "[\"caf\u00e9 \u2603\"]" },
        { "3/admin,13[\"bar\"]", 3, "/admin", 13, "[\"bar\"]" },
        { "312[]", 3, "/", 12, "[]" },
        { "4{\"message\":\"Not authorized\"}", 4, "/", -1, "{\"message\":\"Not authorized\"}" },
        { "4\"plain\"", 4, "/", -1, "\"plain\"" },
        { "50-[\"no attachments\"]", 5, "/", -1, "[\"no attachments\"]" },
    };

    [Theory]
    [MemberData(nameof(ValidPackets))]
    public void DecodesEveryValidPacketAtEverySplit(string text, int type, string ns, long id, string? payload)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var sequence in SplitReplay.AllSplits(bytes))
        {
            using var decoder = new SocketIODecoder();
            var status = decoder.Decode(sequence, isBinary: false, out var packet, out var error);
            Assert.True(status == SocketIODecodeStatus.Packet, $"{text}: {status} {error}");
            using (packet)
            {
                Assert.Equal((SocketIOPacketType)type, packet!.Type);
                Assert.Equal(ns, packet.Namespace);
                Assert.Equal(id, packet.Id);
                if (payload is null)
                {
                    Assert.Null(packet.Payload);
                }
                else
                {
                    Assert.Equal(payload, JsonSerializer.Serialize(packet.Data, SocketIOJson.DefaultOptions));
                }
            }
        }
    }

    public static TheoryData<string> InvalidPackets => new()
    {
        "",
        "7",
        "9[\"x\"]",
        "a",
        "abc",
        "2{}",
        "2",
        "2[]",
        "2[null]",
        "2[{}]",
        "2[\"connect\"]",
        "2[\"disconnect\"]",
        "2[\"disconnecting\"]",
        "2[\"newListener\"]",
        "2abc[\"message-with-ack\",1]",
        "2[\"a\"",
        "2[\"a\"]x",
        "2[\"a\"][\"b\"]",
        "2\"str\"",
        "3[]",
        "312{}",
        "312",
        "1{}",
        "1/admin,{}",
        "112",
        "0[]",
        "0\"x\"",
        "012{}",
        "4",
        "4[]",
        "5[\"a\"]",
        "5-[\"a\"]",
        "5x-[\"a\"]",
        "51[\"a\"]",
        "511-[\"a\"]",
        "599999999999-[\"a\"]",
        "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
        "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",
        "51-[\"a\",{\"_placeholder\":true}]",
        "51-[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":\"0\"}]}]",
        "61-[\"no id\"]",
        "21234567890123456[\"id too long\"]",
        "2" + new string('[', 100) + "\"a\"" + new string(']', 100),
    };

    [Theory]
    [MemberData(nameof(InvalidPackets))]
    public void RejectsMalformedPacketsAtEverySplit(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var sequence in SplitReplay.AllSplits(bytes))
        {
            using var decoder = new SocketIODecoder();
            var status = decoder.Decode(sequence, isBinary: false, out var packet, out var error);
            Assert.Equal(SocketIODecodeStatus.Error, status);
            Assert.Null(packet);
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void RejectsNamespaceThatIsNotUtf8()
    {
        byte[] bytes = [(byte)'0', (byte)'/', 0xC3, 0x28, (byte)','];
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode(bytes, false, out _, out _));
    }

    [Fact]
    public void AccumulatesAttachmentsThenResolvesPlaceholders()
    {
        var text = "52-/admin,789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"nested\":{\"_placeholder\":true,\"num\":1}}]"u8.ToArray();
        foreach (var sequence in SplitReplay.AllSplits(text))
        {
            using var decoder = new SocketIODecoder();
            Assert.Equal(SocketIODecodeStatus.NeedAttachments, decoder.Decode(sequence, false, out var none, out _));
            Assert.Null(none);
            Assert.True(decoder.IsReconstructing);
            Assert.Equal(SocketIODecodeStatus.NeedAttachments, decoder.Decode(new byte[] { 1, 2, 3 }, true, out _, out _));
            var second = SplitReplay.SplitAt([4, 5, 6], 1);
            Assert.Equal(SocketIODecodeStatus.Packet, decoder.Decode(second, true, out var packet, out _));
            using (packet)
            {
                Assert.False(decoder.IsReconstructing);
                Assert.Equal(SocketIOPacketType.BinaryEvent, packet!.Type);
                Assert.Equal("/admin", packet.Namespace);
                Assert.Equal(789, packet.Id);
                Assert.Equal(2, packet.Attachments.Count);
                var first = SocketIOJson.Deserialize<byte[]>(packet.Data[1], packet.Attachments, SocketIOJson.DefaultOptions);
                Assert.Equal(new byte[] { 1, 2, 3 }, first);
                var nested = SocketIOJson.Deserialize<Holder>(packet.Data[2], packet.Attachments, SocketIOJson.DefaultOptions);
                Assert.Equal(new byte[] { 4, 5, 6 }, nested!.Nested.ToArray());
            }
        }
    }

    [Fact]
    public void TextWhileReconstructingIsAnError()
    {
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.NeedAttachments, decoder.Decode("51-[\"a\",{\"_placeholder\":true,\"num\":0}]"u8, false, out _, out _));
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode("2[\"b\"]"u8, false, out _, out var error));
        Assert.Contains("plaintext", error);
        Assert.False(decoder.IsReconstructing);
    }

    [Fact]
    public void BinaryWithoutAPacketIsAnError()
    {
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode(new byte[] { 1 }, true, out _, out var error));
        Assert.Contains("binary", error);
    }

    [Fact]
    public void MaxAttachmentsIsConfigurable()
    {
        using var decoder = new SocketIODecoder(maxAttachments: 2);
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode("53-[\"a\"]"u8, false, out _, out var error));
        Assert.Equal("too many attachments", error);
    }

    [Fact]
    public void ReusesTheNamespaceStringOfTheLastPacket()
    {
        using var decoder = new SocketIODecoder();
        decoder.Decode("2/chat,[\"a\"]"u8, false, out var a, out _);
        decoder.Decode("2/chat,[\"b\"]"u8, false, out var b, out _);
        Assert.Same(a!.Namespace, b!.Namespace);
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void DisposedPacketElementsThrowInsteadOfReadingReusedMemory()
    {
        using var decoder = new SocketIODecoder();
        decoder.Decode("2[\"a\"]"u8, false, out var packet, out _);
        var element = packet!.Data;
        packet.Dispose();
        Assert.Throws<ObjectDisposedException>(() => element.GetArrayLength());
    }

    private sealed record Holder(ReadOnlyMemory<byte> Nested);
}
