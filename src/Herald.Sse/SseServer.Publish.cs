using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Protocol.Sse;
using Herald.Sse.Internal;

namespace Herald.Sse;

public sealed partial class SseServer
{
    private const int MaxRetainedBufferSize = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_dataBuffer;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_frameBuffer;

    /// <summary>Encodes once, then delivers to the targets (<c>null</c>: everyone).</summary>
    internal void Publish(string[]? targets, string? eventName, object? data)
        => PublishBody(targets, EncodeBody(eventName, data));

    /// <summary>Publishes data that is already UTF-8 text (used by the message-bus consumer: no re-serialization).</summary>
    /// <remarks>
    /// <paramref name="except"/> (topics or client ids whose clients must not get it) comes from the envelope's
    /// <c>except</c>: the session layer's channel union sends one envelope per channel, each excluding the channels
    /// before it, so a client in several channels gets the event once.
    /// </remarks>
    internal void PublishUtf8(string[]? targets, string? eventName, ReadOnlySpan<byte> utf8Data, string[]? except = null)
        => PublishBody(targets, EncodeBody(eventName, utf8Data), except);

    internal void PublishBody(string[]? targets, byte[] body, string[]? except = null)
    {
        if (except is { Length: > 0 })
        {
            PublishExcept(targets, body, except);
            return;
        }

        lock (_lock)
        {
            var seq = ++_seq;
            var now = Now;
            var capacity = _options.MaxHistory;
            if (targets is null)
            {
                _allHistory.Add(seq, now, body, capacity);
                _store?.Append(_instanceTag, SseAudience.All, seq, body);
                foreach (var connection in _connections)
                {
                    Deliver(connection, seq, body);
                }

                return;
            }

            if (targets.Length == 1)
            {
                // The common case needs no union set: a topic's members, plus the client of that id unless it is a member.
                var name = targets[0];
                _rooms.TryGetValue(name, out var room);
                if (room is not null)
                {
                    room.History.Add(seq, now, body, capacity);
                    _store?.Append(_instanceTag, SseAudience.Topic(name), seq, body);
                    foreach (var member in room.Members)
                    {
                        Deliver(member, seq, body);
                    }
                }

                if (_clients.TryGetValue(name, out var client) && !client.IsClosed)
                {
                    (client.Direct ??= new SseHistory()).Add(seq, now, body, capacity);
                    _store?.Append(_instanceTag, SseAudience.Client(name), seq, body);
                    if (room is null || !room.Members.Contains(client))
                    {
                        Deliver(client, seq, body);
                    }
                }

                return;
            }

            var union = _scratchClients;
            try
            {
                foreach (var name in targets)
                {
                    if (_rooms.TryGetValue(name, out var room))
                    {
                        room.History.Add(seq, now, body, capacity);
                        _store?.Append(_instanceTag, SseAudience.Topic(name), seq, body);
                        union.UnionWith(room.Members);
                    }

                    if (_clients.TryGetValue(name, out var client) && !client.IsClosed)
                    {
                        (client.Direct ??= new SseHistory()).Add(seq, now, body, capacity);
                        _store?.Append(_instanceTag, SseAudience.Client(name), seq, body);
                        union.Add(client);
                    }
                }

                foreach (var client in union)
                {
                    Deliver(client, seq, body);
                }
            }
            finally
            {
                union.Clear();
            }
        }
    }

    /// <summary>The slow path of <see cref="PublishBody"/> with exclusions: the union of the targets minus the excluded clients.</summary>
    private void PublishExcept(string[]? targets, byte[] body, string[] except)
    {
        lock (_lock)
        {
            var seq = ++_seq;
            var now = Now;
            var capacity = _options.MaxHistory;
            var union = new HashSet<SseClient>();
            if (targets is null)
            {
                _allHistory.Add(seq, now, body, capacity);
                _store?.Append(_instanceTag, SseAudience.All, seq, body);
                foreach (var connection in _connections)
                {
                    union.Add(connection.Client);
                }
            }
            else
            {
                foreach (var name in targets)
                {
                    if (_rooms.TryGetValue(name, out var room))
                    {
                        room.History.Add(seq, now, body, capacity);
                        _store?.Append(_instanceTag, SseAudience.Topic(name), seq, body);
                        union.UnionWith(room.Members);
                    }

                    if (_clients.TryGetValue(name, out var client) && !client.IsClosed)
                    {
                        (client.Direct ??= new SseHistory()).Add(seq, now, body, capacity);
                        _store?.Append(_instanceTag, SseAudience.Client(name), seq, body);
                        union.Add(client);
                    }
                }
            }

            foreach (var name in except)
            {
                if (_rooms.TryGetValue(name, out var room))
                {
                    union.ExceptWith(room.Members);
                }

                if (_clients.TryGetValue(name, out var client))
                {
                    union.Remove(client);
                }
            }

            foreach (var client in union)
            {
                Deliver(client, seq, body);
            }
        }
    }

    internal void CloseClients(string[]? targets)
    {
        lock (_lock)
        {
            var toClose = _scratchList;
            try
            {
                if (targets is null)
                {
                    toClose.AddRange(_clients.Values);
                }
                else
                {
                    foreach (var name in targets)
                    {
                        if (_rooms.TryGetValue(name, out var room))
                        {
                            toClose.AddRange(room.Members);
                        }

                        if (_clients.TryGetValue(name, out var client))
                        {
                            toClose.Add(client);
                        }
                    }
                }

                var now = Now;
                foreach (var client in toClose)
                {
                    if (client.IsClosed)
                    {
                        continue;
                    }

                    // Final: the id is remembered (ClosedClientRetention) so its reconnect gets 204.
                    client.IsClosed = true;
                    client.EndedAt = now;
                    _store?.MarkClosed(client.Id);
                    LeaveAllLocked(client);
                    client.Connection?.Complete(SseDisconnectReason.ClosedByServer);
                }
            }
            finally
            {
                toClose.Clear();
            }
        }
    }

    private void Deliver(SseClient client, long seq, byte[] body)
    {
        if (client.Connection is { } connection)
        {
            Deliver(connection, seq, body);
        }
    }

    private void Deliver(SseConnection connection, long seq, byte[] body)
    {
        if (connection.TryEnqueue(new SseQueuedFrame(body, seq, HasId: true), out var overflowed))
        {
            SseMetrics.Sent(body.Length);
        }
        else if (overflowed)
        {
            SseLog.SlowClient(_logger, connection.Client.Id, connection.QueuedMessages, connection.QueuedBytes, _options.MaxQueuedMessages, _options.MaxQueuedBytes);
            SseMetrics.SlowClientDisconnects.Add(1);
        }
    }

    private byte[] EncodeBody(string? eventName, object? data)
    {
        var dataBuffer = t_dataBuffer ??= new ArrayBufferWriter<byte>(256);
        try
        {
            switch (data)
            {
                case null:
                    break;
                case string text:
                    Encoding.UTF8.GetBytes(text, dataBuffer);
                    break;
                default:
                    using (var json = new Utf8JsonWriter(dataBuffer))
                    {
                        JsonSerializer.Serialize(json, data, data.GetType(), _options.JsonSerializerOptions);
                    }

                    break;
            }

            return EncodeBody(eventName, dataBuffer.WrittenSpan);
        }
        finally
        {
            Reset(ref t_dataBuffer, dataBuffer);
        }
    }

    private static byte[] EncodeBody(string? eventName, ReadOnlySpan<byte> utf8Data)
    {
        if (eventName is not null && (eventName.Length == 0 || !SseFrameWriter.IsValidField(eventName)))
        {
            throw new ArgumentException("An event name is not empty and has no CR, LF or NUL.", nameof(eventName));
        }

        var frame = t_frameBuffer ??= new ArrayBufferWriter<byte>(256);
        try
        {
            var nameBytes = eventName is null ? [] : Encoding.UTF8.GetBytes(eventName);
            SseFrameWriter.WriteEventBody(frame, nameBytes, utf8Data);
            return frame.WrittenSpan.ToArray();
        }
        finally
        {
            Reset(ref t_frameBuffer, frame);
        }
    }

    private static void Reset(ref ArrayBufferWriter<byte>? slot, ArrayBufferWriter<byte> buffer)
    {
        // Keep small buffers per thread; let a one-off large payload's buffer go.
        if (buffer.Capacity > MaxRetainedBufferSize)
        {
            slot = null;
        }
        else
        {
            buffer.ResetWrittenCount();
        }
    }
}
