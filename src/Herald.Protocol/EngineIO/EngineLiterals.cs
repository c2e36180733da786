namespace Herald.Protocol.EngineIO;

/// <summary>
/// Pre-encoded Engine.IO v4 packets and constants, so that heartbeats and upgrade steps never allocate.
/// </summary>
public static class EngineLiterals
{
    /// <summary>The record separator (<c>\x1e</c>) between packets of an HTTP long-polling payload.</summary>
    public const byte RecordSeparator = 0x1e;

    /// <summary>The prefix of a base64 binary packet inside a long-polling payload.</summary>
    public const byte Base64Prefix = (byte)'b';

    /// <summary>The protocol version this codec speaks (the <c>EIO</c> query parameter).</summary>
    public const int ProtocolVersion = 4;

    /// <summary><c>1</c>: close.</summary>
    public static ReadOnlySpan<byte> Close => "1"u8;

    /// <summary><c>2</c>: ping.</summary>
    public static ReadOnlySpan<byte> Ping => "2"u8;

    /// <summary><c>3</c>: pong.</summary>
    public static ReadOnlySpan<byte> Pong => "3"u8;

    /// <summary><c>2probe</c>: the client's probe on a new transport.</summary>
    public static ReadOnlySpan<byte> PingProbe => "2probe"u8;

    /// <summary><c>3probe</c>: the server's answer to the probe.</summary>
    public static ReadOnlySpan<byte> PongProbe => "3probe"u8;

    /// <summary><c>probe</c>: the data of the probe packets.</summary>
    public static ReadOnlySpan<byte> Probe => "probe"u8;

    /// <summary><c>5</c>: upgrade.</summary>
    public static ReadOnlySpan<byte> Upgrade => "5"u8;

    /// <summary><c>6</c>: noop.</summary>
    public static ReadOnlySpan<byte> Noop => "6"u8;

    /// <summary><c>ok</c>: the body of a successful long-polling POST.</summary>
    public static ReadOnlySpan<byte> Ok => "ok"u8;

    /// <summary>The one-byte packet for a type with no data (<c>"2"</c> for ping...).</summary>
    public static ReadOnlySpan<byte> Of(EnginePacketType type) => type switch
    {
        EnginePacketType.Open => "0"u8,
        EnginePacketType.Close => "1"u8,
        EnginePacketType.Ping => "2"u8,
        EnginePacketType.Pong => "3"u8,
        EnginePacketType.Message => "4"u8,
        EnginePacketType.Upgrade => "5"u8,
        EnginePacketType.Noop => "6"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
