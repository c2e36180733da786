using System.Diagnostics.CodeAnalysis;

namespace Herald.Protocol.EngineIO;

/// <summary>Throws kept out of the parsing methods so that they stay small and inlinable.</summary>
internal static class EngineThrowHelper
{
    [DoesNotReturn]
    public static void ThrowEmptyPacket() => throw new InvalidDataException("Empty Engine.IO packet.");

    [DoesNotReturn]
    public static void ThrowUnknownPacketType(byte type)
        => throw new InvalidDataException($"Unknown Engine.IO packet type 0x{type:x2}.");

    [DoesNotReturn]
    public static void ThrowInvalidBase64() => throw new InvalidDataException("Invalid base64 in an Engine.IO binary packet.");
}
