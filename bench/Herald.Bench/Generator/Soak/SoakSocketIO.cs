using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Herald.Bench.Generator.Soak;

/// <summary>How a soak client's Socket.IO packets travel: WebSocket frames or long-polling requests.</summary>
internal interface ISoakTransport
{
    /// <summary>Sends one Engine.IO message packet (<c>4</c> + the Socket.IO packet), then its binary attachment if any.</summary>
    ValueTask SendAsync(string packet, byte[]? attachment);

    /// <summary>Answers a server ping (<c>2</c>) with a pong (<c>3</c>).</summary>
    ValueTask SendPongAsync();
}

/// <summary>
/// The Socket.IO side of a soak client, shared by its WebSocket and polling transports: the CONNECT handshake, acks by
/// id (<c>42N["event",…]</c> answered by <c>43N[…]</c>), and the room deliveries <c>42["msg","seq.room.ts.xxx"]</c> with
/// a per-room order check. Room state is only changed between calls (one control operation at a time per client), and a
/// leave takes effect when its ack is read, in the receive path, so deliveries and the leave are seen in server order:
/// - a delivery from the client's current room must follow the previous one (seq + 1) — the first one after a join may
///   start anywhere (a stable client, in its room before the first publish, must start at 0); anything else is a gap
///   (a lost or repeated message: a functional failure);
/// - a delivery from a room the client has left (after the leave's ack) is a stray: reported, not failed (a broadcast
///   that snapshotted the room just before the leave may still land after the ack).
/// </summary>
internal sealed class SoakSocketIO(ISoakTransport transport, SoakCounters counters, bool stable)
{
    /// <summary>CONNECT to "/" with auth <c>{"soak":true}</c>: the bench server adds the soak handlers to these sockets only.</summary>
    public const string ConnectPacketText = "40{\"soak\":true}";

    private static ReadOnlySpan<byte> MsgPrefix => "2[\"msg\",\""u8;

    public static ReadOnlySpan<byte> ConnectPacket => "40{\"soak\":true}"u8;

    private readonly ConcurrentDictionary<int, Pending> _acks = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextAckId;
    private volatile int _room = -1;
    private bool _seen;
    private long _next;

    public bool Stable { get; } = stable;

    public SoakCounters Counters { get; } = counters;

    /// <summary>The room the client is in (-1: none).</summary>
    public int Room => _room;

    /// <summary>Deliveries received (receive path only).</summary>
    public long Received { get; private set; }

    /// <summary>Set when the server closed the session or it failed (not by the client's own close).</summary>
    public string? Failure { get; private set; }

    public Task Connected => _connected.Task;

    public void Fail(string reason)
    {
        Failure ??= reason;
        _connected.TrySetException(new IOException(reason));
        foreach (var id in _acks.Keys)
        {
            if (_acks.TryRemove(id, out var p))
            {
                p.Done.TrySetException(new IOException(reason));
            }
        }
    }

    /// <summary>Joins <paramref name="room"/> (index) and waits for the ack.</summary>
    public async Task JoinAsync(int room, TimeSpan timeout)
    {
        _seen = false;
        _next = 0;
        _room = room;
        await CallAsync("join", Quote("soak" + room.ToString(CultureInfo.InvariantCulture)), null, null, timeout);
    }

    /// <summary>Leaves the current room; from the ack on, its deliveries are strays.</summary>
    public async Task LeaveAsync(TimeSpan timeout)
    {
        int room = _room;
        await CallAsync("leave", Quote("soak" + room.ToString(CultureInfo.InvariantCulture)), null, () => _room = -1, timeout);
    }

    /// <summary>Emits "echo" with a payload; true when the ack carries it back unchanged.</summary>
    public async Task<bool> EchoAsync(string payload, TimeSpan timeout)
    {
        string args = Quote(payload);
        return await CallAsync("echo", args, null, null, timeout) == "[" + args + "]";
    }

    /// <summary>Emits "bin" with a binary attachment; true when the ack carries its length.</summary>
    public async Task<bool> BinaryAsync(byte[] data, TimeSpan timeout)
    {
        string ack = await CallAsync("bin", "{\"_placeholder\":true,\"num\":0}", data, null, timeout);
        return ack == "[" + data.Length.ToString(CultureInfo.InvariantCulture) + "]";
    }

    private async Task<string> CallAsync(string name, string args, byte[]? attachment, Action? onAck, TimeSpan timeout)
    {
        int id = Interlocked.Increment(ref _nextAckId);
        var pending = new Pending(onAck);
        _acks[id] = pending;
        string ids = id.ToString(CultureInfo.InvariantCulture);
        string packet = attachment is null
            ? "42" + ids + "[\"" + name + "\"," + args + "]"
            : "451-" + ids + "[\"" + name + "\"," + args + "]";
        await transport.SendAsync(packet, attachment);
        try
        {
            return await pending.Done.Task.WaitAsync(timeout);
        }
        finally
        {
            _acks.TryRemove(id, out _);
        }
    }

    private static string Quote(string s) => "\"" + s + "\"";

    /// <summary>One Engine.IO packet from the server (a WebSocket frame, or one record of a polling payload).</summary>
    public void OnEnginePacket(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return;
        }

        switch (packet[0])
        {
            case (byte)'2':
                _ = transport.SendPongAsync();
                break;
            case (byte)'1':
                Fail("engine.io close from server");
                break;
            case (byte)'4':
                OnSocketIOPacket(packet[1..]);
                break;
        }
    }

    private void OnSocketIOPacket(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
        {
            return;
        }

        switch (p[0])
        {
            case (byte)'2':
                if (p.StartsWith(MsgPrefix))
                {
                    var payload = p[MsgPrefix.Length..];
                    int end = payload.IndexOf((byte)'"');
                    OnDelivery(end >= 0 ? payload[..end] : default);
                }

                break;
            case (byte)'3':
                int bracket = p.IndexOf((byte)'[');
                if (bracket > 1 && Utf8Parser.TryParse(p[1..bracket], out int id, out _) && _acks.TryRemove(id, out var pending))
                {
                    pending.OnAck?.Invoke();
                    pending.Done.TrySetResult(Encoding.UTF8.GetString(p[bracket..]));
                }

                break;
            case (byte)'0':
                _connected.TrySetResult();
                break;
            case (byte)'4':
                Fail("connect error: " + Encoding.UTF8.GetString(p));
                break;
            case (byte)'1':
                Fail("disconnected by server");
                break;
        }
    }

    private void OnDelivery(ReadOnlySpan<byte> payload)
    {
        if (!Payload.TryRead(payload, out long seq, out int room, out _))
        {
            Interlocked.Increment(ref Counters.BadPayloads);
            return;
        }

        Received++;
        Interlocked.Increment(ref Counters.Deliveries);
        if (room != _room)
        {
            Interlocked.Increment(ref Counters.Strays);
            return;
        }

        if (_seen || Stable)
        {
            if (seq != _next)
            {
                Interlocked.Increment(ref Counters.Gaps);
                Counters.SetFirstError($"{(Stable ? "stable " : "")}client in room soak{room}: got message {seq}, expected {_next}");
            }
        }

        _seen = true;
        _next = seq + 1;
    }

    private sealed class Pending(Action? onAck)
    {
        public Action? OnAck { get; } = onAck;

        public TaskCompletionSource<string> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
