using System.Text;
using Herald.SocketIO.Internal;

namespace Herald.SocketIO.Tests;

/// <summary>
/// The MessagePack transcoder of <see cref="SocketIOParser.MessagePack"/> endpoints (issue 15): exact bytes for what
/// notepack.io writes, round trips, and hostile input refused with an error rather than an exception or a hang.
/// </summary>
public sealed class MsgPackTranscoderTests
{
    [Fact]
    public void An_event_with_an_ack_id_and_a_buffer_decodes_to_the_binary_text_packet()
    {
        // notepack.encode({ type: 2, data: ["ev", Buffer.from([1, 2])], nsp: "/chat", id: 7 })
        byte[] packet =
        [
            0x84,
            0xa4, .. "type"u8, 0x02,
            0xa4, .. "data"u8, 0x92, 0xa2, .. "ev"u8, 0xc4, 0x02, 0x01, 0x02,
            0xa3, .. "nsp"u8, 0xa5, .. "/chat"u8,
            0xa2, .. "id"u8, 0x07,
        ];
        var decoded = MsgPackTranscoder.Decode(packet, 10, out var error);
        Assert.Null(error);
        Assert.NotNull(decoded);
        Assert.Equal("""51-/chat,7["ev",{"_placeholder":true,"num":0}]""", Encoding.UTF8.GetString(decoded.Value.Text));
        Assert.Equal([1, 2], Assert.Single(decoded.Value.Attachments));
    }

    [Fact]
    public void A_connect_without_data_and_an_undefined_id_decodes()
    {
        // { type: 0, nsp: "/", id: undefined } (notepack's undefined is d4 00 00)
        byte[] packet = [0x83, 0xa4, .. "type"u8, 0x00, 0xa3, .. "nsp"u8, 0xa1, (byte)'/', 0xa2, .. "id"u8, 0xd4, 0x00, 0x00];
        var decoded = MsgPackTranscoder.Decode(packet, 10, out var error);
        Assert.Null(error);
        Assert.Equal("0", Encoding.UTF8.GetString(decoded!.Value.Text));
    }

    [Fact]
    public void A_text_packet_with_attachments_encodes_to_one_map_with_bin_values_and_back()
    {
        var text = """451-/chat,12["ev",{"a":1.5,"b":[true,null,"x"],"big":1099511627776},{"_placeholder":true,"num":0}]"""u8.ToArray();
        ReadOnlyMemory<byte>[] attachments = [new byte[] { 9, 8, 7 }];
        var packed = MsgPackTranscoder.Encode(text.AsSpan(1), attachments);
        var back = MsgPackTranscoder.Decode(packed, 10, out var error);
        Assert.Null(error);
        Assert.Equal("""51-/chat,12["ev",{"a":1.5,"b":[true,null,"x"],"big":1099511627776},{"_placeholder":true,"num":0}]""", Encoding.UTF8.GetString(back!.Value.Text));
        Assert.Equal([9, 8, 7], Assert.Single(back.Value.Attachments));
    }

    [Theory]
    [InlineData(new byte[] { }, "truncated")]
    [InlineData(new byte[] { 0x92, 0x01, 0x02 }, "map")]                                  // an array, not a map
    [InlineData(new byte[] { 0x81, 0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e', 0x09 }, "type")]
    [InlineData(new byte[] { 0x82, 0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e', 0x02, 0xa3, (byte)'n', (byte)'s', (byte)'p', 0xa1, (byte)'/' }, "payload")] // an event without data
    [InlineData(new byte[] { 0x81, 0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e', 0xdb, 0xff, 0xff, 0xff, 0xff }, "integer")]
    [InlineData(new byte[] { 0x81, 0xa4, (byte)'d', (byte)'a', (byte)'t', (byte)'a', 0xc6, 0x7f, 0xff, 0xff, 0xff }, "truncated")] // a bin claiming 2 GB
    public void Malformed_packets_are_refused_with_an_error(byte[] packet, string expected)
    {
        Assert.Null(MsgPackTranscoder.Decode(packet, 10, out var error));
        Assert.Contains(expected, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Deep_nesting_and_too_many_attachments_are_refused()
    {
        List<byte> deep = [0x81, 0xa4, .. "data"u8];
        for (var i = 0; i < 10_000; i++)
        {
            deep.Add(0x91);
        }

        deep.Add(0xc0);
        Assert.Null(MsgPackTranscoder.Decode([.. deep], 10, out var error));
        Assert.Contains("deep", error, StringComparison.Ordinal);

        List<byte> many = [0x83, 0xa4, .. "type"u8, 0x02, 0xa3, .. "nsp"u8, 0xa1, (byte)'/', 0xa4, .. "data"u8, 0x9c];
        for (var i = 0; i < 12; i++)
        {
            many.AddRange([0xc4, 0x01, (byte)i]);
        }

        Assert.Null(MsgPackTranscoder.Decode([.. many], 10, out error));
        Assert.Contains("more than 10 attachments", error, StringComparison.Ordinal);
    }
}
