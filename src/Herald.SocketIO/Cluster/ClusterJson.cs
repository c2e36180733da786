using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Herald.SocketIO.Cluster;

/// <summary>
/// The <c>data</c> member of the adapter's envelope kinds:
/// <list type="bullet">
/// <item><c>sockets-join</c>/<c>sockets-leave</c>: <c>{"rooms":["a","b"]}</c>; <c>disconnect-sockets</c>: <c>{"close":true}</c> or absent.</item>
/// <item><c>broadcast-client-count</c>: <c>{"count":n,"nodes":[...]}</c> (a plain number is read too); <c>broadcast-ack-response</c>: <c>{"socketId":"x","args":[...]}</c>
/// (binary in <c>attachments</c>) or <c>{"socketId":"x","missing":true}</c> for a client that disconnected first.</item>
/// <item><c>fetch-sockets-response</c>: <c>[{"id","rooms":[...],"data":{...},"handshake":{"headers":{},"query":{},"auth":{},
/// "address","time","issued","url","secure"}}]</c>.</item>
/// </list>
/// </summary>
internal static class ClusterJson
{
    private static readonly string[] NoRooms = [];

    public static byte[] RoomsData(IReadOnlyCollection<string> rooms)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("rooms"u8);
            foreach (var room in rooms)
            {
                writer.WriteStringValue(room);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string[] ReadRooms(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return NoRooms;
        }

        var reader = new Utf8JsonReader(data);
        var rooms = new List<string>();
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("rooms"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw new JsonException("data.rooms is an array of strings");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    rooms.Add(reader.GetString()!);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return [.. new HashSet<string>(rooms, StringComparer.Ordinal)];
    }

    public static bool ReadClose(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return false;
        }

        using var document = JsonDocument.Parse(data.ToArray());
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("close"u8, out var close) && close.ValueKind == JsonValueKind.True;
    }

    /// <summary>
    /// <c>{"count":n,"nodes":["self","other",...]}</c>: the answering node's targets and its view of the cluster
    /// (itself and the nodes it sees alive), so that a requester that does not know the cluster yet (an emitter's
    /// first request) learns which other nodes to wait for.
    /// </summary>
    public static byte[] CountData(int count, string self, IReadOnlyCollection<string> others)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("count"u8, count);
            writer.WriteStartArray("nodes"u8);
            writer.WriteStringValue(self);
            foreach (var node in others)
            {
                writer.WriteStringValue(node);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a count: a plain number, or the object of <see cref="CountData"/>.</summary>
    public static int ReadCount(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("count"u8))
                {
                    reader.Read();
                    return Math.Max(0, reader.GetInt32());
                }

                reader.Read();
                reader.Skip();
            }

            throw new JsonException("broadcast-client-count: data is a number or {\"count\":n}");
        }

        return Math.Max(0, reader.GetInt32());
    }

    /// <summary><c>server-side-emit-response</c>: <c>{"args":[...]}</c> from the JSON array of the answer.</summary>
    public static byte[] ServerSideResponseData(ReadOnlySpan<byte> argsArray)
    {
        var data = new byte[argsArray.Length + 9];
        "{\"args\":"u8.CopyTo(data);
        argsArray.CopyTo(data.AsSpan(8));
        data[^1] = (byte)'}';
        return data;
    }

    public static ServerSideResponse ReadServerSideResponse(string node, ReadOnlySpan<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        using var document = JsonDocument.Parse(data.ToArray());
        var root = document.RootElement;
        var args = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("args"u8, out var a) && a.ValueKind == JsonValueKind.Array
            ? a.Clone()
            : throw new JsonException("server-side-emit-response: data is {\"args\":[...]}");
        return new ServerSideResponse(node, args, ClusterProtocolCopy(attachments), options);
    }

    public static byte[] AckData(AckResponse ack)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("socketId"u8, ack.SocketId);
            if (ack.IsMissing)
            {
                writer.WriteBoolean("missing"u8, true);
            }
            else
            {
                writer.WritePropertyName("args"u8);
                ack.Raw.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static AckResponse ReadAck(ReadOnlySpan<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, JsonSerializerOptions options)
    {
        using var document = JsonDocument.Parse(data.ToArray());
        var root = document.RootElement;
        var socketId = root.GetProperty("socketId"u8).GetString() ?? string.Empty;
        if (root.TryGetProperty("missing"u8, out var missing) && missing.ValueKind == JsonValueKind.True)
        {
            return AckResponse.Missing(socketId);
        }

        var args = root.TryGetProperty("args"u8, out var a) && a.ValueKind == JsonValueKind.Array ? a.Clone() : JsonDocument.Parse("[]"u8.ToArray()).RootElement;
        return new AckResponse(socketId, args, ClusterProtocolCopy(attachments), options);
    }

    private static ReadOnlyMemory<byte>[] ClusterProtocolCopy(IReadOnlyList<ReadOnlyMemory<byte>> attachments)
        => Protocol.Cluster.ClusterSocketIOPacket.ToArray(attachments);

    public static byte[] WriteSockets(IReadOnlyList<RemoteSocket> sockets, JsonSerializerOptions options, Action<string, Exception> onBadData)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * Math.Max(1, sockets.Count));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var socket in sockets)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, socket.Id);
                writer.WriteStartArray("rooms"u8);
                foreach (var room in socket.Rooms)
                {
                    writer.WriteStringValue(room);
                }

                writer.WriteEndArray();
                writer.WritePropertyName("data"u8);
                writer.WriteRawValue(SerializeData(socket, options, onBadData), skipInputValidation: true);
                if (socket.Handshake is { } handshake)
                {
                    writer.WritePropertyName("handshake"u8);
                    WriteHandshake(writer, handshake);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static List<RemoteSocket> ReadSockets(ReadOnlySpan<byte> data, ClusterAdapter adapter, string node)
    {
        var result = new List<RemoteSocket>();
        if (data.IsEmpty)
        {
            return result;
        }

        using var document = JsonDocument.Parse(data.ToArray());
        foreach (var item in document.RootElement.EnumerateArray())
        {
            var id = item.GetProperty("id"u8).GetString()!;
            var rooms = new List<string>();
            if (item.TryGetProperty("rooms"u8, out var r) && r.ValueKind == JsonValueKind.Array)
            {
                foreach (var room in r.EnumerateArray())
                {
                    rooms.Add(room.GetString()!);
                }
            }

            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (item.TryGetProperty("data"u8, out var d) && d.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in d.EnumerateObject())
                {
                    values[property.Name] = property.Value.Clone();
                }
            }

            var handshake = item.TryGetProperty("handshake"u8, out var h) && h.ValueKind == JsonValueKind.Object ? ReadHandshake(h) : null;
            result.Add(new ClusterRemoteSocket(adapter, node, id, handshake, rooms, values));
        }

        return result;
    }

    private static byte[] SerializeData(RemoteSocket socket, JsonSerializerOptions options, Action<string, Exception> onBadData)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(socket.Data, options);
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            onBadData(socket.Id, e);
            return "{}"u8.ToArray();
        }
    }

    private static void WriteHandshake(Utf8JsonWriter writer, Handshake handshake)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("headers"u8);
        foreach (var (name, value) in handshake.Headers)
        {
            writer.WriteString(name, value.ToString());
        }

        writer.WriteEndObject();
        writer.WriteStartObject("query"u8);
        foreach (var (name, value) in handshake.Query)
        {
            if (value.Count == 1)
            {
                writer.WriteString(name, value[0]);
            }
            else
            {
                writer.WriteStartArray(name);
                foreach (var v in value)
                {
                    writer.WriteStringValue(v);
                }

                writer.WriteEndArray();
            }
        }

        writer.WriteEndObject();
        writer.WritePropertyName("auth"u8);
        if (handshake.Auth.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            handshake.Auth.WriteTo(writer);
        }

        writer.WriteString("address"u8, handshake.Address);
        writer.WriteNumber("issued"u8, handshake.Issued);
        writer.WriteString("url"u8, handshake.Url);
        writer.WriteBoolean("secure"u8, handshake.Secure);
        writer.WriteEndObject();
    }

    private static Handshake ReadHandshake(JsonElement h)
    {
        var headers = new HeaderDictionary();
        if (h.TryGetProperty("headers"u8, out var hs) && hs.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in hs.EnumerateObject())
            {
                headers[p.Name] = ReadValues(p.Value);
            }
        }

        var query = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
        if (h.TryGetProperty("query"u8, out var qs) && qs.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in qs.EnumerateObject())
            {
                query[p.Name] = ReadValues(p.Value);
            }
        }

        var auth = h.TryGetProperty("auth"u8, out var a) ? a.Clone() : default;
        var address = h.TryGetProperty("address"u8, out var ad) && ad.ValueKind == JsonValueKind.String ? ad.GetString() : null;
        var issued = h.TryGetProperty("issued"u8, out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt64() : 0;
        var url = h.TryGetProperty("url"u8, out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        var secure = h.TryGetProperty("secure"u8, out var s) && s.ValueKind == JsonValueKind.True;
        return new Handshake(headers, new QueryCollection(query), auth, address, DateTimeOffset.FromUnixTimeMilliseconds(issued), url, secure);
    }

    private static StringValues ReadValues(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            var list = new List<string?>();
            foreach (var v in value.EnumerateArray())
            {
                list.Add(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
            }

            return new StringValues([.. list]);
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
    }
}
