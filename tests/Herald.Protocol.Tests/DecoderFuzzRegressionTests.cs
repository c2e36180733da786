using Herald.Protocol.SocketIO;

namespace Herald.Protocol.Tests;

/// <summary>Inputs the fuzzer (tests/Herald.Fuzz.Tests) found: each must be a decode error, never an exception.</summary>
public class DecoderFuzzRegressionTests
{
    [Theory]
    // Invalid UTF-8 (0xC1) inside a JSON string: JsonDocument only notices when the string is read.
    [InlineData(new byte[] { (byte)'2', (byte)'[', (byte)'"', (byte)'a', 0xC1, (byte)'"', (byte)']' })]
    // A lone surrogate escape as the event name (the reserved-name check compares it).
    [InlineData(new byte[] { (byte)'2', (byte)'[', (byte)'"', (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0', (byte)'"', (byte)']' })]
    public void FoundByFuzzing_IsADecodeError(byte[] packet)
    {
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode(packet, isBinary: false, out var decoded, out var error));
        Assert.Null(decoded);
        Assert.NotNull(error);
    }

    [Fact]
    public void LoneSurrogateInAPlaceholderName_IsADecodeError()
    {
        using var decoder = new SocketIODecoder();
        var packet = "51-[\"e\",{\"_placeholder\":true,\"nu\\ud800m\":0}]"u8;
        Assert.Equal(SocketIODecodeStatus.Error, decoder.Decode(packet, isBinary: false, out _, out _));
    }

    [Fact]
    public void LoneSurrogateInAnArgument_IsStillAccepted()
    {
        // Valid JSON that a JavaScript client can send; the application's deserialization decides.
        using var decoder = new SocketIODecoder();
        Assert.Equal(SocketIODecodeStatus.Packet, decoder.Decode("2[\"e\",\"\\ud800\"]"u8, isBinary: false, out var packet, out _));
        packet!.Dispose();
    }
}
