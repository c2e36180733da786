using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Protocol.EngineIO;
using Herald.Testing;

namespace Herald.Protocol.Tests.EngineIO;

public class EnginePacketWriterTests
{
    [Fact]
    public void WritesOpenPacket()
    {
        var output = new ArrayBufferWriter<byte>();
        EnginePacketWriter.WriteOpen(output, "abc", ["websocket"], 25000, 20000, 1000000);
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.Equal("0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}", text);
        using var doc = JsonDocument.Parse(text[1..]);
        Assert.Equal(0, doc.RootElement.GetProperty("upgrades").GetArrayLength() - 1);
    }

    [Fact]
    public void WritesOpenPacketWithoutUpgrades()
    {
        var output = new ArrayBufferWriter<byte>();
        EnginePacketWriter.WriteOpen(output, "s", [], 300, 200, 1000);
        Assert.Equal("0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000}", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WritesPacketsWithTypeDigit()
    {
        var output = new ArrayBufferWriter<byte>();
        EnginePacketWriter.WritePacket(output, EnginePacketType.Message, "hi"u8);
        EnginePacketWriter.WriteSeparator(output);
        EnginePacketWriter.WritePacket(output, EnginePacketType.Ping, default);
        Assert.Equal("4hi\u001e2", Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal("2"u8.ToArray(), EngineLiterals.Of(EnginePacketType.Ping).ToArray());
        Assert.Equal("6"u8.ToArray(), EngineLiterals.Noop.ToArray());
    }

    [Theory]
    [InlineData(new byte[0], "b")]
    [InlineData(new byte[] { 1 }, "bAQ==")]
    [InlineData(new byte[] { 1, 2, 3, 4 }, "bAQIDBA==")]
    public void EncodesBinaryAsBase64(byte[] data, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(EnginePacketWriter.EncodePollingBinary(data)));
        var output = new ArrayBufferWriter<byte>();
        EnginePacketWriter.WritePollingBinary(output, data);
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void RoundTripsAMixedPayload_AtEverySplit()
    {
        var binary = new byte[300];
        Random.Shared.NextBytes(binary);
        var output = new ArrayBufferWriter<byte>();
        EnginePacketWriter.WritePacket(output, EnginePacketType.Message, "héllo"u8);
        EnginePacketWriter.WriteSeparator(output);
        EnginePacketWriter.WritePollingBinary(output, binary);
        EnginePacketWriter.WriteSeparator(output);
        EnginePacketWriter.WritePacket(output, EnginePacketType.Pong, default);
        var bytes = output.WrittenSpan.ToArray();

        foreach (var sequence in SplitReplay.AllSplits(bytes))
        {
            var buffer = sequence;
            Assert.True(EnginePacketParser.TryParse(ref buffer, out var text));
            Assert.Equal("héllo", Encoding.UTF8.GetString(text.Data));
            Assert.True(EnginePacketParser.TryParse(ref buffer, out var bin));
            Assert.True(bin.IsBinary);
            var decoded = new byte[bin.GetDataLength()];
            bin.CopyDataTo(decoded);
            Assert.Equal(binary, decoded);
            Assert.True(EnginePacketParser.TryParse(ref buffer, out var pong));
            Assert.Equal(EnginePacketType.Pong, pong.Type);
            Assert.False(EnginePacketParser.TryParse(ref buffer, out _));
        }
    }
}
