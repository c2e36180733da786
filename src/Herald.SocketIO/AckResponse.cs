using System.Text.Json;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

/// <summary>Sends an acknowledgement back to the client that emitted an event; only the first call is sent.</summary>
/// <param name="args">The answer's arguments (<c>byte[]</c> anywhere makes it a BINARY_ACK).</param>
public delegate void AckCallback(params ReadOnlySpan<object?> args);

/// <summary>What a client answered to an event emitted with an acknowledgement.</summary>
public sealed class AckResponse
{
    private readonly JsonElement _root;
    private readonly JsonSerializerOptions _options;

    internal AckResponse(string socketId, JsonElement root, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        SocketId = socketId;
        _root = root;
        Attachments = attachments;
        _options = options;
        var args = new JsonElement[root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : 0];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = root[i];
        }

        Args = args;
    }

    /// <summary>The id of the socket that answered.</summary>
    public string SocketId { get; }

    /// <summary>The answer's arguments as JSON (binary placeholders left as they are).</summary>
    public IReadOnlyList<JsonElement> Args { get; }

    /// <summary>The binary attachments of the answer.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>Binds argument <paramref name="index"/> (binary placeholders resolved); default when absent.</summary>
    public T? Get<T>(int index = 0)
        => (uint)index < (uint)Args.Count ? SocketIOJson.Deserialize<T>(Args[index], Attachments, _options) : default;

    /// <summary>The raw JSON array.</summary>
    public JsonElement Raw => _root;

    /// <summary>A placeholder for a target that disconnected before answering (counted, not reported).</summary>
    internal bool IsMissing { get; private init; }

    internal static AckResponse Missing(string socketId) => new(socketId, default, [], SocketIOJson.DefaultOptions) { IsMissing = true };
}
