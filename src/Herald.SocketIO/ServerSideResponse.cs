using System.Text.Json;
using Herald.Protocol.SocketIO;

namespace Herald.SocketIO;

/// <summary>
/// One server's answer to <see cref="Namespace.ServerSideEmitWithAckAsync(string, object?[])"/>: the arguments its
/// <see cref="Namespace.OnServerSideEmit(string, Action{IReadOnlyList{JsonElement}, AckCallback})"/> handler gave
/// to the acknowledgement callback.
/// </summary>
public sealed class ServerSideResponse
{
    private readonly JsonSerializerOptions _options;

    internal ServerSideResponse(string node, JsonElement args, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        Node = node;
        Attachments = attachments;
        _options = options;
        var list = new JsonElement[args.ValueKind == JsonValueKind.Array ? args.GetArrayLength() : 0];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = args[i];
        }

        Args = list;
    }

    /// <summary>The node that answered.</summary>
    public string Node { get; }

    /// <summary>The answer's arguments as JSON (binary placeholders left as they are).</summary>
    public IReadOnlyList<JsonElement> Args { get; }

    /// <summary>The binary attachments of the answer.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>Binds argument <paramref name="index"/> (binary placeholders resolved); default when absent.</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="index">The argument index.</param>
    /// <returns>The value.</returns>
    public T? Get<T>(int index = 0)
        => (uint)index < (uint)Args.Count ? SocketIOJson.Deserialize<T>(Args[index], Attachments, _options) : default;
}

/// <summary>
/// Not every server answered a <see cref="Namespace.ServerSideEmitWithAckAsync(string, object?[])"/> in time;
/// <see cref="Responses"/> holds the answers that did arrive.
/// </summary>
public class ServerSideEmitTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="responses">The answers received in time.</param>
    /// <param name="expected">How many servers were expected to answer.</param>
    public ServerSideEmitTimeoutException(IReadOnlyList<ServerSideResponse> responses, int expected)
        : base($"serverSideEmitWithAck timed out: {responses.Count} of {expected} servers answered.")
    {
        Responses = responses;
        Expected = expected;
    }

    /// <summary>Creates the exception.</summary>
    public ServerSideEmitTimeoutException()
        : this([], 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public ServerSideEmitTimeoutException(string message)
        : base(message)
    {
        Responses = [];
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ServerSideEmitTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
        Responses = [];
    }

    /// <summary>The answers received before the timeout.</summary>
    public IReadOnlyList<ServerSideResponse> Responses { get; }

    /// <summary>How many servers were expected to answer (the other nodes seen alive when the request left, minus those that went away).</summary>
    public int Expected { get; }
}
