using System.Buffers;
using System.Text;
using Herald.Redis.Resp;
using Herald.Testing;

namespace Herald.Messaging.Tests;

/// <summary>Every RESP case is replayed split at every byte offset, and every strict prefix must ask for more bytes.</summary>
public sealed class RespReaderTests
{
    public static TheoryData<string, string> ValidCases => new()
    {
        { "+OK\r\n", "SimpleString OK" },
        { "-ERR unknown command\r\n", "Error ERR unknown command" },
        { ":0\r\n", "Integer 0" },
        { ":-42\r\n", "Integer -42" },
        { ":9223372036854775807\r\n", "Integer 9223372036854775807" },
        { "$5\r\nhello\r\n", "BulkString hello" },
        { "$0\r\n\r\n", "BulkString " },
        { "$12\r\nline1\r\nline2\r\n", "BulkString line1\r\nline2" },
        { "$-1\r\n", "Null" },
        { "*-1\r\n", "Null" },
        { "*0\r\n", "[]" },
        { "*2\r\n$3\r\nfoo\r\n:7\r\n", "[BulkString foo,Integer 7]" },
        { "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n", "[BulkString message,BulkString news,BulkString hi]" },
        { "*2\r\n*1\r\n+a\r\n*0\r\n", "[[SimpleString a],[]]" },
        { "_\r\n", "Null" },
        { "#t\r\n", "Boolean 1" },
        { "#f\r\n", "Boolean 0" },
        { ",3.14\r\n", "Number 3.14" },
        { "(3492890328409238509324850943850943825024385\r\n", "Number 3492890328409238509324850943850943825024385" },
        { "=15\r\ntxt:Some string\r\n", "BulkString Some string" },
        { "!21\r\nSYNTAX invalid syntax\r\n", "Error SYNTAX invalid syntax" },
        { "%1\r\n+key\r\n:1\r\n", "[SimpleString key,Integer 1]" },
        { "~2\r\n+a\r\n+b\r\n", "[SimpleString a,SimpleString b]" },
        { ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n", "Push[BulkString message,BulkString c,BulkString x]" },
        { "|1\r\n+ttl\r\n:3600\r\n:42\r\n", "Integer 42" },
    };

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void ParsesAtEverySplit(string wire, string expected)
    {
        var data = Encoding.UTF8.GetBytes(wire + "+NEXT\r\n");
        var valueLength = Encoding.UTF8.GetByteCount(wire);
        foreach (var sequence in SplitReplay.AllSplits(data))
        {
            var buffer = sequence;
            Assert.True(RespReader.TryParse(ref buffer, out var value));
            Assert.Equal(expected, Describe(value));
            Assert.Equal(data.Length - valueLength, buffer.Length); // stops right after the value

            Assert.True(RespReader.TryParse(ref buffer, out var next));
            Assert.Equal("SimpleString NEXT", Describe(next));
            Assert.True(buffer.IsEmpty);
        }
    }

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void EveryStrictPrefix_NeedsMoreBytes(string wire, string expected)
    {
        _ = expected;
        var data = Encoding.UTF8.GetBytes(wire);
        for (var length = 0; length < data.Length; length++)
        {
            foreach (var sequence in SplitReplay.AllSplits(data[..length]))
            {
                var buffer = sequence;
                Assert.False(RespReader.TryParse(ref buffer, out _), $"prefix of {length} bytes parsed");
                Assert.Equal(length, buffer.Length);
            }
        }
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12a\r\n")]
    [InlineData(":\r\n")]
    [InlineData("+OK\n")]
    [InlineData("$5\r\nhelloXX")]
    [InlineData("$-2\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData("_x\r\n")]
    [InlineData("#x\r\n")]
    [InlineData("=2\r\nab\r\n")]
    [InlineData(":123456789012345678901234567890\r\n")]
    public void MalformedInput_Throws(string wire)
    {
        var data = Encoding.UTF8.GetBytes(wire);
        foreach (var sequence in SplitReplay.AllSplits(data))
        {
            var buffer = sequence;
            Assert.Throws<RespProtocolException>(() => RespReader.TryParse(ref buffer, out _));
        }
    }

    [Fact]
    public void Limits_AreEnforced_BeforeTheDataArrives()
    {
        var limits = new RespLimits { MaxBulkLength = 10, MaxLineLength = 8, MaxAggregateLength = 4, MaxDepth = 2 };
        Assert.Throws<RespProtocolException>(() => Parse("$11\r\n", limits));
        Assert.Throws<RespProtocolException>(() => Parse("+123456789\r\n", limits));
        Assert.Throws<RespProtocolException>(() => Parse("+1234567890123", limits)); // no CRLF yet, already too long
        Assert.Throws<RespProtocolException>(() => Parse("*5\r\n", limits));
        Assert.Throws<RespProtocolException>(() => Parse("%3\r\n", limits));
        Assert.Throws<RespProtocolException>(() => Parse("*1\r\n*1\r\n*1\r\n:1\r\n", limits));
        Assert.Equal("[[Integer 1]]", Parse("*1\r\n*1\r\n:1\r\n", limits));
    }

    [Fact]
    public void HugeAggregateHeader_DoesNotAllocateUntilItsElementsArrive()
    {
        var buffer = new ReadOnlySequence<byte>("*1000000\r\n:1\r\n"u8.ToArray());
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(RespReader.TryParse(ref buffer, out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000);
    }

    private static string Parse(string wire, RespLimits limits)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        Assert.True(RespReader.TryParse(ref buffer, out var value, limits));
        return Describe(value);
    }

    private static string Describe(RespValue value) => value.Type switch
    {
        RespType.Array => "[" + string.Join(",", value.Items!.Select(Describe)) + "]",
        RespType.Push => "Push[" + string.Join(",", value.Items!.Select(Describe)) + "]",
        _ => value.ToString(),
    };
}

public sealed class RespWriterTests
{
    [Fact]
    public void WritesCommandsAsArraysOfBulkStrings()
    {
        var output = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(output, ["PUBLISH", RedisArgument.Prefixed("herald:"u8.ToArray(), "tópic"), new ReadOnlyMemory<byte>([1, 2, 13, 10]), 42L, ""]);
        var expected = "*5\r\n$7\r\nPUBLISH\r\n$13\r\nherald:tópic\r\n$4\r\n\u0001\u0002\r\n\r\n$2\r\n42\r\n$0\r\n\r\n";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WrittenCommand_ParsesBackAsTheSameArguments()
    {
        var output = new ArrayBufferWriter<byte>();
        var payload = new byte[70_000];
        new Random(7).NextBytes(payload);
        RespWriter.WriteCommand(output, ["SET", "k", payload]);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(RespReader.TryParse(ref buffer, out var value));
        Assert.Equal(3, value.Items!.Length);
        Assert.Equal(payload, value.Items[2].Bytes.ToArray());
    }
}
