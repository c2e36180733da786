using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.Bench.Generator.Soak;

internal enum SoakKind
{
    WebSocket,
    Polling,
    Sse,
}

/// <summary>How a soak client leaves: each is a different path to the end of the server's session.</summary>
internal enum SoakLeave
{
    /// <summary>Says goodbye: Socket.IO disconnect (<c>41</c>) then TCP close over WebSocket; Engine.IO close (<c>1</c>) over polling.</summary>
    Graceful,

    /// <summary>Just goes away: the WebSocket's TCP connection closes; a polling client's pending GET is aborted.</summary>
    Abrupt,

    /// <summary>
    /// Goes silent with the connection open: no more pongs (and no more polls), so only the server's heartbeat
    /// (pingInterval + pingTimeout, 45 s by default) can end the session. SSE clients have no heartbeat: abrupt.
    /// </summary>
    Silent,
}

/// <summary>One client of the soak population, whatever its transport.</summary>
internal interface ISoakClient
{
    SoakKind Kind { get; }

    /// <summary>Deliveries received.</summary>
    long Received { get; }

    /// <summary>Why the connection ended without the generator closing it (null while it is fine).</summary>
    string? Failure { get; }

    /// <summary>Leaves (see <see cref="SoakLeave"/>); returns once the client's own resources are released.</summary>
    Task CloseAsync(SoakLeave how);
}

/// <summary>A soak client that speaks Socket.IO (WebSocket or polling).</summary>
internal interface ISoakSocketIOClient : ISoakClient
{
    SoakSocketIO IO { get; }
}

/// <summary>Counters shared by every soak client and the scenario (Interlocked).</summary>
internal sealed class SoakCounters
{
    public long Connects;
    public long ConnectFailures;
    public long Disconnects;
    public long Silent;
    public long UnexpectedCloses;
    public long Deliveries;
    public long SseDeliveries;
    public long Gaps;
    public long Strays;
    public long BadPayloads;
    public long Joins;
    public long Leaves;
    public long Echoes;
    public long Binaries;
    public long AckFailures;
    private string? _firstError;

    public string? FirstError => Volatile.Read(ref _firstError);

    public void SetFirstError(string error) => Interlocked.CompareExchange(ref _firstError, error, null);
}

/// <summary>Socket.IO over a direct WebSocket (the load tool's raw client), for the soak scenario.</summary>
internal sealed class SoakWebSocketClient : BenchClient, ISoakSocketIOClient, ISoakTransport
{
    /// <summary>Longer than the server's default heartbeat (25 s + 20 s) plus its sweep period.</summary>
    internal static readonly TimeSpan SilentLimit = TimeSpan.FromSeconds(60);

    private volatile bool _closing;
    private volatile bool _silent;

    private SoakWebSocketClient(Socket socket, int index, SoakCounters counters, bool stable)
        : base(socket, index)
    {
        IO = new SoakSocketIO(this, counters, stable);
    }

    public SoakKind Kind => SoakKind.WebSocket;

    public SoakSocketIO IO { get; }

    long ISoakClient.Received => IO.Received;

    public string? Failure => _closing ? null : IO.Failure ?? (Closed ? CloseReason ?? "closed" : null);

    public static async Task<SoakWebSocketClient> ConnectAsync(IPEndPoint server, SoakCounters counters, bool stable, int index, CancellationToken ct)
    {
        return (SoakWebSocketClient)await ConnectAsync(server, null, "/socket.io/?EIO=4&transport=websocket",
            (s, i) => new SoakWebSocketClient(s, i, counters, stable), index, ct);
    }

    public async Task CloseAsync(SoakLeave how)
    {
        _closing = true;
        if (how == SoakLeave.Silent)
        {
            // Stop answering pings and wait (bounded) for the server's heartbeat to end the session.
            _silent = true;
            var deadline = Stopwatch.StartNew();
            while (!Closed && deadline.Elapsed < SilentLimit)
            {
                await Task.Delay(250);
            }

            if (!Closed)
            {
                IO.Counters.SetFirstError($"a silent WebSocket client was not cut by the server's heartbeat within {SilentLimit.TotalSeconds:F0} s");
                Interlocked.Increment(ref IO.Counters.AckFailures);
            }
        }
        else if (how == SoakLeave.Graceful && !Closed)
        {
            await SendTextAsync("41"u8);
        }

        await CloseAsync();
    }

    public override ValueTask PublishAsync(string room, ReadOnlySpan<byte> payload) => throw new NotSupportedException();

    async ValueTask ISoakTransport.SendAsync(string packet, byte[]? attachment)
    {
        await SendTextAsync(packet);
        if (attachment is not null)
        {
            await SendBinaryAsync(attachment);
        }
    }

    ValueTask ISoakTransport.SendPongAsync() => SendTextAsync("3"u8);

    protected override ValueTask OnOpenAsync() => ValueTask.CompletedTask;

    protected override ValueTask SendJoinAsync(string room) => throw new NotSupportedException();

    protected override void OnMessage(ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty || _silent)
        {
            return;
        }

        if (message[0] == (byte)'0')
        {
            _ = SendTextAsync(SoakSocketIO.ConnectPacket);
            return;
        }

        IO.OnEnginePacket(message);
        if (message.StartsWith("40"u8))
        {
            SetReady();
        }
        else if (IO.Failure is { } failure)
        {
            Fail(failure);
        }
    }
}

/// <summary>An EventSource client of the bench server's SSE endpoint (topic "soak"), for the soak scenario.</summary>
internal sealed class SoakSseClient : ISoakClient
{
    private readonly SseBenchClient _client;
    private volatile bool _closing;

    private SoakSseClient(SseBenchClient client)
    {
        _client = client;
    }

    public SoakKind Kind => SoakKind.Sse;

    public long Received => _client.Received;

    public string? Failure => _closing ? null : _client.CloseReason;

    public static async Task<SoakSseClient> ConnectAsync(IPEndPoint server, ICountingSink sink, bool stable, int index, CancellationToken ct)
    {
        var client = await SseBenchClient.ConnectAsync(server, null, "/bench/sse?topic=soak", index, ct);

        // A stable client is connected before the first publish: its first delivery must be message 0. Any other starts
        // wherever the stream was when it subscribed (-1: not checked until its first delivery).
        client.NextSeq = stable ? 0 : -1;
        client.Sink = sink;
        return new SoakSseClient(client);
    }

    public Task CloseAsync(SoakLeave how)
    {
        _closing = true;
        return _client.CloseAsync();
    }
}

/// <summary>Checks the SSE deliveries of the soak population: consecutive per client (see <see cref="SoakSseClient"/>).</summary>
internal sealed class SoakSseSink(SoakCounters counters) : ICountingSink
{
    public void OnDelivery(DeliveryCounters client, ReadOnlySpan<byte> payload)
    {
        if (!Payload.TryRead(payload, out long seq, out _, out _))
        {
            Interlocked.Increment(ref counters.BadPayloads);
            return;
        }

        client.Received++;
        Interlocked.Increment(ref counters.SseDeliveries);
        if (client.NextSeq >= 0 && seq != client.NextSeq)
        {
            client.OrderErrors++;
            Interlocked.Increment(ref counters.Gaps);
            counters.SetFirstError($"SSE client: got message {seq}, expected {client.NextSeq}");
        }

        client.NextSeq = seq + 1;
    }
}
