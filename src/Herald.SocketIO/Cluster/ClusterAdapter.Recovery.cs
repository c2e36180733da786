using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Internal;
using Herald.Messaging;
using Herald.Protocol.Cluster;
using Herald.SocketIO.Recovery;

namespace Herald.SocketIO.Cluster;

/// <summary>
/// Connection-state recovery across nodes. Every node logs the recoverable broadcasts in the one order the bus
/// gives them (so an offset means the same position on every node), and every node keeps the sessions of the
/// whole namespace, so a client can come back on any node, even when its node died without a word.
/// </summary>
/// <remarks>
/// <para>Order: a recoverable broadcast of this node is published first and delivered to the local sockets when
/// it comes back from the bus, like the other nodes' broadcasts, so local and remote clients see the same
/// order. When the bus is down (or the publication fails, or its echo does not come back within a heartbeat
/// interval) the node logs and delivers it locally at once: local delivery never stops.</para>
/// <para>Sessions travel as <c>session</c> envelopes (<c>data</c>: <c>{"pid","sid","rooms","data","gen","state"}</c>,
/// state <c>live</c>, <c>disconnected</c> or <c>gone</c>) when a socket connects, changes rooms and leaves; a
/// node that stops heartbeating has its live sessions marked disconnected. <c>gen</c> counts restores, so a
/// late update from a socket's previous node cannot overwrite its newer state.</para>
/// </remarks>
public partial class ClusterAdapter
{
    // A publication id longer than this is not logged (it would be echoed to every client as an argument).
    private const int MaxPublicationIdLength = 128;

    private readonly ConcurrentDictionary<string, InFlight> _inFlight = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override void OnSessionConnected(Socket socket)
    {
        var session = SessionOf(socket, socket.Rooms);
        Recovery!.Save(session);
        PublishSession(session, "live");
    }

    /// <inheritdoc />
    public override void OnSessionRoomsChanged(Socket socket)
    {
        var session = SessionOf(socket, socket.Rooms);
        Recovery!.Save(session);
        PublishSession(session, "live");
    }

    /// <inheritdoc />
    public override void OnSessionClosed(Socket socket, IReadOnlyCollection<string> rooms, bool recoverable)
    {
        var session = SessionOf(socket, rooms);
        if (recoverable)
        {
            session.DisconnectedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
            Recovery!.Save(session);
            PublishSession(session, "disconnected");
        }
        else
        {
            Recovery!.Remove(session.Pid, session.Generation);
            PublishSession(session, "gone");
        }
    }

    /// <inheritdoc />
    public override RecoverySession? RestoreSession(string pid, string offset) => Recovery?.TryTake(pid, offset, NodeName);

    /// <inheritdoc />
    public override bool MayCatchUp(string pid, string offset) => Recovery?.KnowsSessionButNotOffset(pid, offset) == true;

    /// <summary>A session update from another node.</summary>
    private void OnSessionEnvelope(ClusterEnvelope envelope)
    {
        if (Recovery is not { } recovery)
        {
            return;
        }

        var (session, state) = ReadSession(envelope.Data.Span, envelope.Source);
        switch (state)
        {
            case "live":
                recovery.Save(session);
                break;
            case "disconnected":
                session.DisconnectedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
                recovery.Save(session);
                break;
            case "gone":
                recovery.Remove(session.Pid, session.Generation);
                break;
        }
    }

    /// <summary>A recoverable broadcast from the bus (another node's, or this node's echo): log it, then deliver it.</summary>
    private bool TryDeliverRecoverable(ClusterEnvelope envelope, string channel)
    {
        if (Recovery is not { } recovery || ReadOffset(envelope.Data.Span, out var isPublicationId) is not { } offset)
        {
            return false;
        }

        // An emitter's publication (Ws.Via, the hub's HTTP API, a non-.NET publisher) names itself with an "id" and
        // has no offset in its arguments: every node appends that id as the offset, so it is logged and recoverable
        // like a node's own broadcast. A volatile one is not recoverable (socket.io's rule).
        if (isPublicationId && (envelope.Flags & ClusterEnvelopeFlags.Volatile) != 0)
        {
            return false;
        }

        if (string.Equals(envelope.Source, NodeName, StringComparison.Ordinal))
        {
            if (_inFlight.TryRemove(offset, out var own))
            {
                DeliverOwn(own.Packet, own.Options);
            }

            return true;
        }

        if (!ClusterSocketIOPacket.TryToSocketIOText(envelope.Packet.Span, Namespace.Name, envelope.Attachments.Count, -1, isPublicationId ? offset : null, out var text, out var error))
        {
            ClusterAdapterLog.BadEnvelope(_logger, Namespace.Name, channel, error);
            return true;
        }

        var packet = BroadcastPacket.Received(Namespace.Name, new Protocol.SocketIO.EncodedSocketIOPacket(text, ClusterSocketIOPacket.ToArray(envelope.Attachments)), offset);
        var options = OptionsOf(envelope);
        recovery.Append(packet, options);
        DeliverLocal(packet, options);
        return true;
    }

    /// <summary>Logs and delivers this node's own recoverable broadcast (echo received, bus down, or publication failed).</summary>
    private void DeliverOwn(BroadcastPacket packet, BroadcastOptions options)
    {
        Recovery!.Append(packet, options);
        DeliverLocal(packet, options);
    }

    private async Task PublishRecoverableAsync(ClusterEnvelope envelope, string offset)
    {
        var buffer = new PooledBufferWriter(1024);
        try
        {
            ClusterEnvelopeCodec.Write(buffer, envelope);
            await _bus.PublishAsync(_allChannel, buffer.WrittenMemory).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (e is MessageBusException)
            {
                ClusterAdapterLog.PublishUnavailable(_logger, Namespace.Name, envelope.Kind, e.Message);
            }
            else
            {
                ClusterAdapterLog.PublishFailed(_logger, Namespace.Name, envelope.Kind, e);
            }

            if (_inFlight.TryRemove(offset, out var own))
            {
                DeliverOwn(own.Packet, own.Options);
            }
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// Delivers the own broadcasts whose echo is late (older than <paramref name="olderThan"/>: a heartbeat timeout from the timer; all of them when
    /// the bus went down: Redis does not keep pub/sub messages for a subscriber that is reconnecting).
    /// </summary>
    private void FlushInFlight(TimeSpan olderThan)
    {
        if (_inFlight.IsEmpty)
        {
            return;
        }

        List<InFlight>? late = null;
        foreach (var (offset, entry) in _inFlight)
        {
            if (_time.GetElapsedTime(entry.Timestamp) >= olderThan && _inFlight.TryRemove(offset, out var removed))
            {
                (late ??= []).Add(removed);
            }
        }

        if (late is null)
        {
            return;
        }

        late.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
        foreach (var entry in late)
        {
            DeliverOwn(entry.Packet, entry.Options);
        }
    }

    private RecoverySession SessionOf(Socket socket, IReadOnlyCollection<string> rooms) => new()
    {
        Pid = socket.Pid!,
        Sid = socket.Id,
        Rooms = rooms,
        Data = new Dictionary<string, object?>(socket.Data, StringComparer.Ordinal),
        Owner = NodeName,
        Generation = socket.SessionGeneration,
    };

    private void PublishSession(RecoverySession session, string state)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("pid"u8, session.Pid);
            writer.WriteString("sid"u8, session.Sid);
            writer.WriteString("state"u8, state);
            writer.WriteNumber("gen"u8, session.Generation);
            writer.WriteStartArray("rooms"u8);
            foreach (var room in session.Rooms)
            {
                writer.WriteStringValue(room);
            }

            writer.WriteEndArray();
            writer.WriteStartObject("data"u8);
            foreach (var (key, value) in session.Data)
            {
                try
                {
                    var json = JsonSerializer.SerializeToUtf8Bytes(value, Namespace.Server.JsonOptions);
                    writer.WritePropertyName(key);
                    writer.WriteRawValue(json, skipInputValidation: true);
                }
                catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
                {
                    ClusterAdapterLog.DataNotSerializable(_logger, Namespace.Name, session.Sid, e);
                }
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        Publish(_allChannel, new ClusterEnvelope
        {
            Source = NodeName,
            Kind = ClusterEnvelopeKinds.Session,
            Namespace = Namespace.Name,
            Data = buffer.WrittenMemory,
        });
    }

    private static (RecoverySession Session, string State) ReadSession(ReadOnlySpan<byte> data, string owner)
    {
        var reader = new Utf8JsonReader(data);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var rooms = new List<string>();
        foreach (var room in root.GetProperty("rooms"u8).EnumerateArray())
        {
            rooms.Add(room.GetString()!);
        }

        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (root.TryGetProperty("data"u8, out var dataElement) && dataElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in dataElement.EnumerateObject())
            {
                values[property.Name] = property.Value.Clone();
            }
        }

        var session = new RecoverySession
        {
            Pid = root.GetProperty("pid"u8).GetString()!,
            Sid = root.GetProperty("sid"u8).GetString()!,
            Rooms = rooms,
            Data = values,
            Owner = owner,
            Generation = root.GetProperty("gen"u8).GetInt32(),
        };
        return (session, root.GetProperty("state"u8).GetString()!);
    }

    /// <summary>
    /// The offset in a broadcast envelope's <c>data</c>: <c>{"offset":"..."}</c> (a node's broadcast, the offset already
    /// in its arguments) or <c>{"id":"..."}</c> (an emitter's publication: <paramref name="isPublicationId"/>); null for none.
    /// </summary>
    private static string? ReadOffset(ReadOnlySpan<byte> data, out bool isPublicationId)
    {
        isPublicationId = false;
        if (data.IsEmpty)
        {
            return null;
        }

        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isOffset = reader.ValueTextEquals("offset"u8);
            var isId = !isOffset && reader.ValueTextEquals("id"u8);
            if (!reader.Read())
            {
                return null;
            }

            if ((isOffset || isId) && reader.TokenType == JsonTokenType.String)
            {
                var value = reader.GetString();
                if (string.IsNullOrEmpty(value) || value.Length > MaxPublicationIdLength)
                {
                    return null; // not an offset a client could present back: delivered, not logged
                }

                isPublicationId = isId;
                return value;
            }

            reader.TrySkip();
        }

        return null;
    }

    private static byte[] OffsetData(string offset)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + offset.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("offset"u8, offset);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private readonly record struct InFlight(BroadcastPacket Packet, BroadcastOptions Options, long Timestamp);
}
