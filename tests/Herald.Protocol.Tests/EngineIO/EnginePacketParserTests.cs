using System.Buffers;
using System.Text;
using Herald.Protocol.EngineIO;
using Herald.Testing;

namespace Herald.Protocol.Tests.EngineIO;

public class EnginePacketParserTests
{
    // (payload, expected packets as "type:data" with binary rendered as "bin:hex")
    public static TheoryData<string, string[]> ValidPayloads => new()
    {
        { "4hello", ["Message:hello"] },
        { "4", ["Message:"] },
        { "2", ["Ping:"] },
        { "3", ["Pong:"] },
        { "3probe", ["Pong:probe"] },
        { "1", ["Close:"] },
        { "5", ["Upgrade:"] },
        { "6", ["Noop:"] },
        { "0{\"sid\":\"x\"}", ["Open:{\"sid\":\"x\"}"] },
        { "4hello\u001e2\u001e4world", ["Message:hello", "Ping:", "Message:world"] },
        { "4test1\u001e4test2\u001e4test3", ["Message:test1", "Message:test2", "Message:test3"] },
        { "4hello\u001ebAQIDBA==", ["Message:hello", "bin:01020304"] },
        { "b", ["bin:"] },
        { "bAQ==", ["bin:01"] },
        { "bAQI=", ["bin:0102"] },
        { "bAQID", ["bin:010203"] },
        { "4€ünï\u001e4", ["Message:€ünï", "Message:"] },
    };

    public static TheoryData<string> InvalidPayloads => new()
    {
        "abc",
        "7",
        "9hello",
        "4a\u001e",
        "\u001e4a",
        "4a\u001e\u001e4b",
        "bAQIDBA=",
        "b!!!!",
        "bAQ=A",
        "bAQ ID",
        "4ok\u001ex",
    };

    [Theory]
    [MemberData(nameof(ValidPayloads))]
    public void ParsesPayload_AtEverySplit(string payload, string[] expected)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        foreach (var sequence in SplitReplay.AllSplits(bytes))
        {
            Assert.Equal(expected, ParseAll(sequence));
        }
    }

    [Theory]
    [MemberData(nameof(InvalidPayloads))]
    public void RejectsMalformedPayload_AtEverySplit(string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        foreach (var sequence in SplitReplay.AllSplits(bytes))
        {
            Assert.Throws<InvalidDataException>(() => ParseAll(sequence));
        }
    }

    [Fact]
    public void EmptyPayloadHasNoPacket()
    {
        var empty = ReadOnlySequence<byte>.Empty;
        Assert.False(EnginePacketParser.TryParse(ref empty, out _));
    }

    [Fact]
    public void AdvancesPastEachPacket()
    {
        var buffer = new ReadOnlySequence<byte>("4a\u001e4bc"u8.ToArray());
        Assert.True(EnginePacketParser.TryParse(ref buffer, out var first));
        Assert.Equal("a"u8.ToArray(), first.Data.ToArray());
        Assert.Equal(3, buffer.Length);
        Assert.True(EnginePacketParser.TryParse(ref buffer, out var second));
        Assert.Equal("bc"u8.ToArray(), second.Data.ToArray());
        Assert.True(buffer.IsEmpty);
        Assert.False(EnginePacketParser.TryParse(ref buffer, out _));
    }

    [Theory]
    [InlineData("4hello", EnginePacketType.Message, "hello")]
    [InlineData("2probe", EnginePacketType.Ping, "probe")]
    [InlineData("3", EnginePacketType.Pong, "")]
    [InlineData("5", EnginePacketType.Upgrade, "")]
    [InlineData("1", EnginePacketType.Close, "")]
    public void ParsesTextFrames(string frame, EnginePacketType type, string data)
    {
        Assert.True(EnginePacketParser.TryParseFrame(Encoding.UTF8.GetBytes(frame), isBinaryFrame: false, out var parsedType, out var parsedData));
        Assert.Equal(type, parsedType);
        Assert.Equal(data, Encoding.UTF8.GetString(parsedData));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("7")]
    [InlineData("bAQIDBA==")]
    [InlineData("/")]
    [InlineData(":")]
    public void RejectsMalformedTextFrames(string frame)
    {
        Assert.False(EnginePacketParser.TryParseFrame(Encoding.UTF8.GetBytes(frame), isBinaryFrame: false, out _, out _));
    }

    [Fact]
    public void BinaryFramesAreMessagesAsIs()
    {
        byte[] frame = [1, 2, 3, 4];
        Assert.True(EnginePacketParser.TryParseFrame(frame, isBinaryFrame: true, out var type, out var data));
        Assert.Equal(EnginePacketType.Message, type);
        Assert.Equal(frame, data.ToArray());

        Assert.True(EnginePacketParser.TryParseFrame([], isBinaryFrame: true, out _, out var empty));
        Assert.True(empty.IsEmpty);
    }

    private static List<string> ParseAll(ReadOnlySequence<byte> buffer)
    {
        var result = new List<string>();
        while (EnginePacketParser.TryParse(ref buffer, out var packet))
        {
            if (packet.IsBinary)
            {
                var decoded = new byte[packet.GetDataLength()];
                Assert.Equal(decoded.Length, packet.CopyDataTo(decoded));
                result.Add("bin:" + Convert.ToHexStringLower(decoded));
            }
            else
            {
                result.Add($"{packet.Type}:{Encoding.UTF8.GetString(packet.Data)}");
            }
        }

        return result;
    }
}
