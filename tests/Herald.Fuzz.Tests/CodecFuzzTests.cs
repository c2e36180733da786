using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Herald.Protocol.Cluster;
using Herald.Protocol.EngineIO;
using Herald.Protocol.SocketIO;
using Herald.Testing;
using Xunit.Abstractions;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Random and mutated inputs to the codecs, in process. A codec may refuse an input (false, an Error status, or the
/// documented <see cref="InvalidDataException"/> of the polling payload parser); any other exception, a case slower
/// than <see cref="SlowCase"/> or memory that keeps growing is a failure, reported with the seed that replays it
/// (<c>HERALD_FUZZ_SEED</c>).
/// </summary>
public class CodecFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan SlowCase = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task EngineIO_SocketIO_AndClusterCodecs_SurviveMutatedInput()
    {
        var cases = FuzzInput.Cases(200_000);
        foreach (var seed in FuzzInput.Seeds())
        {
            // The whole run is bounded: a codec stuck in a loop fails the test instead of hanging it.
            var run = Task.Run(() => Run(seed, cases));
            var (elapsed, slowest, memoryGrowth) = await run.WaitAsync(TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(cases * 2.0));
            output.WriteLine($"seed {seed}: {cases:N0} cases in {elapsed.TotalSeconds:F1} s = {cases / elapsed.TotalSeconds:N0} cases/s; " +
                $"slowest case {slowest.TotalMilliseconds:F1} ms; managed memory growth {memoryGrowth / 1024:N0} KiB");
            Assert.True(memoryGrowth < 64 * 1024 * 1024, $"managed memory grew by {memoryGrowth:N0} bytes");
        }
    }

    private static (TimeSpan Elapsed, TimeSpan Slowest, long MemoryGrowth) Run(int seed, int cases)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var total = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var decoder = new SocketIODecoder();
        try
        {
            for (var i = 0; i < cases; i++)
            {
                var caseSeed = seed + i;
                var random = new Random(caseSeed);
                var input = FuzzInput.Next(random);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    OneCase(random, input, ref decoder);
                }
                catch (Exception ex)
                {
                    throw new InvalidOperationException(
                        $"case seed {caseSeed} (HERALD_FUZZ_SEED={caseSeed} HERALD_FUZZ_CASES=1): input {Hex(input)}: {ex.GetType().Name}", ex);
                }

                var took = Stopwatch.GetElapsedTime(started);
                if (took > slowest)
                {
                    slowest = took;
                }

                if (took > SlowCase)
                {
                    throw new TimeoutException($"case seed {caseSeed} took {took.TotalMilliseconds:F0} ms: input {Hex(input)}");
                }
            }
        }
        finally
        {
            decoder.Dispose();
        }

        var elapsed = total.Elapsed;
        return (elapsed, slowest, GC.GetTotalMemory(forceFullCollection: true) - before);
    }

    private static void OneCase(Random random, byte[] input, ref SocketIODecoder decoder)
    {
        // A polling payload, whole and split across two segments.
        ParsePayload(new ReadOnlySequence<byte>(input));
        if (input.Length > 1)
        {
            ParsePayload(SplitReplay.SplitAt(input, random.Next(1, input.Length)));
        }

        // A WebSocket frame's Engine.IO packet.
        EnginePacketParser.TryParseFrame(input, isBinaryFrame: random.Next(4) == 0, out _, out _);

        // The Socket.IO decoder of one connection: fed until it reports an error (the connection would close).
        var isBinary = decoder.IsReconstructing ? random.Next(3) != 0 : random.Next(8) == 0;
        var data = input.Length > 0 && input[0] == (byte)'4' && !isBinary ? input.AsSpan(1) : input;
        var status = decoder.Decode(data, isBinary, out var packet, out _);
        if (status == SocketIODecodeStatus.Packet)
        {
            using (packet)
            {
                // The Socket.IO layer reads an event's name as a string: a decoded event must allow it.
                if (packet!.IsEvent && packet.Data[0].ValueKind == JsonValueKind.String)
                {
                    _ = packet.Data[0].GetString();
                }

                Touch(packet.Data);
                if (packet.Payload is not null && packet.AttachmentCount > 0)
                {
                    // Placeholders resolved against the attachments, as a handler asking for byte[] arguments would.
                    try
                    {
                        SocketIOJson.Deserialize<JsonElement>(packet.Data, packet.Attachments, SocketIOJson.DefaultOptions);
                    }
                    catch (JsonException)
                    {
                        // A refused argument: the server answers the handler's caller, the connection stays sane.
                    }
                }
            }
        }
        else if (status == SocketIODecodeStatus.Error)
        {
            decoder.Dispose();
            decoder = new SocketIODecoder();
        }

        // The cluster envelope never throws: false with an error.
        ClusterEnvelopeCodec.TryParse(input, out _, out _);
    }

    private static string Hex(byte[] input) => input.Length <= 128 ? Convert.ToHexString(input) : Convert.ToHexString(input, 0, 128) + $"... ({input.Length} bytes)";

    private static void ParsePayload(ReadOnlySequence<byte> buffer)
    {
        try
        {
            while (EnginePacketParser.TryParse(ref buffer, out var packet))
            {
                if (packet.IsBase64)
                {
                    var bytes = new byte[packet.GetDataLength()];
                    packet.CopyDataTo(bytes);
                }
            }
        }
        catch (InvalidDataException)
        {
            // The documented refusal: the server answers 400 and closes the session.
        }
    }

    private static void Touch(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Touch(item);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Touch(property.Value);
                }

                break;
            case JsonValueKind.Number:
                element.TryGetInt64(out _);
                element.GetDouble();
                break;
            case JsonValueKind.String:
                try
                {
                    element.GetString();
                }
                catch (InvalidOperationException)
                {
                    // A lone surrogate ("\ud800") is valid JSON (JavaScript strings may hold one) but not a .NET string:
                    // the application's deserialization refuses it, the codec does not have to.
                }

                break;
        }
    }
}
