using System.Text;
using BenchmarkDotNet.Attributes;
using Herald.Protocol.SocketIO;

namespace Herald.Microbenchmarks;

/// <summary>
/// Socket.IO v5 codec on the bench's own traffic: encoding the broadcast <c>["msg", payload]</c> (done
/// once per broadcast), decoding a client's <c>["pub", room, payload]</c>, and the header-only parse.
/// </summary>
[MemoryDiagnoser]
public class SocketIOCodecBenchmarks
{
    private readonly object?[] _args = [new string('x', 100)];
    private byte[] _pub = [];

    [GlobalSetup]
    public void Setup() => _pub = Encoding.UTF8.GetBytes("2[\"pub\",\"bench\",\"" + new string('x', 100) + "\"]");

    [Benchmark]
    public int EncodeBroadcastEvent() =>
        SocketIOPacketEncoder.EncodeEvent("/", "msg", _args, -1, SocketIOJson.DefaultOptions).Text.Length;

    [Benchmark]
    public int DecodeEvent()
    {
        using var decoder = new SocketIODecoder();
        decoder.Decode(_pub, isBinary: false, out var packet, out _);
        using (packet)
        {
            return packet?.Data.GetArrayLength() ?? 0;
        }
    }

    [Benchmark]
    public long ParseHeader()
    {
        SocketIOPacketParser.TryParseHeader(_pub, 10, out var header, out _);
        return header.PayloadStart;
    }
}
