using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Herald.Protocol.EngineIO;

namespace Herald.Microbenchmarks;

/// <summary>Engine.IO v4 codec: one WebSocket frame, a long-polling payload, writing a packet.</summary>
[MemoryDiagnoser]
public class EngineCodecBenchmarks
{
    private byte[] _frame = [];
    private ReadOnlySequence<byte> _payload;
    private byte[] _data = [];
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    [GlobalSetup]
    public void Setup()
    {
        string body = "2[\"msg\",\"" + new string('x', 100) + "\"]";
        _frame = Encoding.UTF8.GetBytes("4" + body);
        _data = Encoding.UTF8.GetBytes(body);
        _payload = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(string.Join('\u001e', Enumerable.Repeat("4" + body, 10))));
    }

    [Benchmark]
    public int ParseWebSocketFrame()
    {
        EnginePacketParser.TryParseFrame(_frame, isBinaryFrame: false, out _, out var data);
        return data.Length;
    }

    [Benchmark(OperationsPerInvoke = 10)]
    public int ParsePollingPayload10()
    {
        var buffer = _payload;
        int n = 0;
        while (EnginePacketParser.TryParse(ref buffer, out var packet))
        {
            n += (int)packet.Data.Length;
        }

        return n;
    }

    [Benchmark]
    public int WriteMessagePacket()
    {
        _output.ResetWrittenCount();
        EnginePacketWriter.WritePacket(_output, EnginePacketType.Message, _data);
        return _output.WrittenCount;
    }
}
