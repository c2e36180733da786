using System.Buffers;
using System.Text.Json;

namespace Herald.Protocol.SocketIO;

/// <summary>
/// A decoded Socket.IO packet. The JSON payload lives in a pooled buffer: dispose the packet when done, and
/// <see cref="JsonElement.Clone"/> anything that must outlive it.
/// </summary>
public sealed class SocketIOPacket : IDisposable
{
    private static readonly IReadOnlyList<ReadOnlyMemory<byte>> NoAttachments = [];
    private byte[]? _rented;

    internal SocketIOPacket(SocketIOPacketType type, string ns, long id, JsonDocument? payload, byte[]? rented, int attachmentCount)
    {
        Type = type;
        Namespace = ns;
        Id = id;
        Payload = payload;
        _rented = rented;
        AttachmentCount = attachmentCount;
        Attachments = attachmentCount == 0 ? NoAttachments : new List<ReadOnlyMemory<byte>>(attachmentCount);
    }

    /// <summary>The packet type as sent (binary types are kept as such).</summary>
    public SocketIOPacketType Type { get; }

    /// <summary>The namespace, <c>/</c> when the packet named none.</summary>
    public string Namespace { get; }

    /// <summary>The ack id, or -1 when the packet carried none.</summary>
    public long Id { get; }

    /// <summary>Whether the packet carried an ack id.</summary>
    public bool HasId => Id >= 0;

    /// <summary>The parsed JSON payload, or null when the packet had none.</summary>
    public JsonDocument? Payload { get; private set; }

    /// <summary>The payload root, or an undefined element when there is none.</summary>
    public JsonElement Data => Payload?.RootElement ?? default;

    /// <summary>How many binary attachments the packet announced.</summary>
    public int AttachmentCount { get; }

    /// <summary>The binary attachments, in order (placeholder <c>num</c> indexes this list).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>True for <see cref="SocketIOPacketType.Event"/> and <see cref="SocketIOPacketType.BinaryEvent"/>.</summary>
    public bool IsEvent => Type is SocketIOPacketType.Event or SocketIOPacketType.BinaryEvent;

    /// <summary>True for <see cref="SocketIOPacketType.Ack"/> and <see cref="SocketIOPacketType.BinaryAck"/>.</summary>
    public bool IsAck => Type is SocketIOPacketType.Ack or SocketIOPacketType.BinaryAck;

    internal bool IsComplete => Attachments.Count == AttachmentCount;

    internal void AddAttachment(byte[] data) => ((List<ReadOnlyMemory<byte>>)Attachments).Add(data);

    /// <summary>Releases the pooled payload; every <see cref="JsonElement"/> of it becomes unusable.</summary>
    public void Dispose()
    {
        Payload?.Dispose();
        Payload = null;
        var rented = Interlocked.Exchange(ref _rented, null);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
