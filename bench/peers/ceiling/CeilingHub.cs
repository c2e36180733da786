using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Herald.Bench.Peers.Ceiling;

/// <summary>
/// Accepts the WebSocket upgrade by hand (RFC 6455 §4.2.2: 101 + Sec-WebSocket-Accept) and keeps the
/// rooms. A room is a copy-on-write array so the broadcast loop reads it without a lock.
/// </summary>
internal sealed class CeilingHub
{
    private static readonly byte[] WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private long _nextId;

    public async Task AcceptAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        string? key = context.Request.Headers["Sec-WebSocket-Key"];
        if (upgrade is null || !upgrade.IsUpgradableRequest || string.IsNullOrEmpty(key) || key.Length > 64
            || !string.Equals(context.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers["Sec-WebSocket-Accept"] = ComputeAccept(key);
        await using var stream = await upgrade.UpgradeAsync();
        string sid = Interlocked.Increment(ref _nextId).ToString("x12", System.Globalization.CultureInfo.InvariantCulture);
        // After the upgrade the request/response pipes are closed for business; the opaque stream is
        // the connection (as for ASP.NET Core's own WebSocket). Pipes over it give buffered writes;
        // zero-byte reads keep idle connections without a receive buffer.
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        var connection = new CeilingConnection(this, sid, reader, writer, context.Abort);
        try
        {
            await connection.RunAsync(context.RequestAborted);
        }
        finally
        {
            foreach (string room in connection.Rooms)
            {
                Leave(room, connection);
            }

            await reader.CompleteAsync();
        }
    }

    public void Join(string room, CeilingConnection connection) =>
        _rooms.GetOrAdd(room, static _ => new Room()).Add(connection);

    /// <summary>Writes the same pre-built frame to every member: one encode, N writes.</summary>
    public void Publish(string room, byte[] frame)
    {
        if (_rooms.TryGetValue(room, out var r))
        {
            foreach (var member in r.Members)
            {
                member.Send(frame);
            }
        }
    }

    private void Leave(string room, CeilingConnection connection)
    {
        if (_rooms.TryGetValue(room, out var r))
        {
            r.Remove(connection);
        }
    }

    private static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[128];
        int n = Encoding.ASCII.GetBytes(key, input);
        WebSocketGuid.CopyTo(input[n..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..(n + WebSocketGuid.Length)], hash);
        return Convert.ToBase64String(hash);
    }

    private sealed class Room
    {
        private readonly Lock _gate = new();
        private volatile CeilingConnection[] _members = [];

        public CeilingConnection[] Members => _members;

        public void Add(CeilingConnection c)
        {
            lock (_gate)
            {
                if (Array.IndexOf(_members, c) < 0)
                {
                    _members = [.. _members, c];
                }
            }
        }

        public void Remove(CeilingConnection c)
        {
            lock (_gate)
            {
                int i = Array.IndexOf(_members, c);
                if (i >= 0)
                {
                    var next = new CeilingConnection[_members.Length - 1];
                    Array.Copy(_members, 0, next, 0, i);
                    Array.Copy(_members, i + 1, next, i, next.Length - i);
                    _members = next;
                }
            }
        }
    }
}
