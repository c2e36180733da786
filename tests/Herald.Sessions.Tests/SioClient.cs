using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Testing;

namespace Herald.Sessions.Tests;

/// <summary>One event a <see cref="SioClient"/> received: its name and JSON arguments.</summary>
internal sealed record SioEvent(string Name, JsonElement[] Args)
{
    public override string ToString() => Name + " " + string.Join(", ", Args.Select(a => a.GetRawText()));
}

/// <summary>
/// A minimal Socket.IO v5 client over a WebSocket-only Engine.IO v4 session, sending a Cookie header like a browser
/// tab. It answers pings and queues events in arrival order; every wait has the default test timeout.
/// </summary>
internal sealed class SioClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws = new();
    private readonly Channel<SioEvent> _events = Channel.CreateUnbounded<SioEvent>();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement[]>> _acks = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly TaskCompletionSource<string> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextAck;
    private Task? _loop;

    public string Id { get; private set; } = "";

    public Task Closed => _closed.Task;

    public static async Task<SioClient> ConnectAsync(string baseUrl, string? sessionCookie, string? origin = null)
    {
        var client = new SioClient();
        if (sessionCookie is not null)
        {
            client._ws.Options.SetRequestHeader("Cookie", "herald.sid=" + sessionCookie);
        }

        if (origin is not null)
        {
            client._ws.Options.SetRequestHeader("Origin", origin);
        }

        var uri = new Uri(baseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket");
        await client._ws.ConnectAsync(uri, CancellationToken.None).DefaultTimeout();
        client._loop = Task.Run(client.ReceiveLoopAsync);
        client.Id = await client._connected.Task.DefaultTimeout();
        return client;
    }

    /// <summary>The next event; fails if it is not named <paramref name="name"/>.</summary>
    public async Task<SioEvent> NextAsync(string name)
    {
        var e = await _events.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.True(e.Name == name, $"expected '{name}', got {e}");
        return e;
    }

    public async Task<JsonElement[]> EmitWithAckAsync(string name, params object?[] args)
    {
        var id = Interlocked.Increment(ref _nextAck);
        var tcs = new TaskCompletionSource<JsonElement[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _acks[id] = tcs;
        await SendAsync("42" + id + JsonSerializer.Serialize(new object?[] { name }.Concat(args), JsonSerializerOptions.Web));
        return await tcs.Task.DefaultTimeout();
    }

    private async Task SendAsync(string text)
    {
        await _send.WaitAsync().DefaultTimeout();
        try
        {
            await _ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _ws.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                await HandleAsync(Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _events.Writer.TryComplete();
            _connected.TrySetException(new InvalidOperationException("closed before connect"));
            _closed.TrySetResult();
        }
    }

    private async Task HandleAsync(string text)
    {
        switch (text[0])
        {
            case '0':
                await SendAsync("40");
                return;
            case '2':
                await SendAsync("3");
                return;
            case '4':
                break;
            default:
                return;
        }

        var packet = text.AsSpan(1);
        var type = packet[0];
        var body = packet[1..];
        var digits = 0;
        while (digits < body.Length && char.IsAsciiDigit(body[digits]))
        {
            digits++;
        }

        var ackId = digits > 0 ? int.Parse(body[..digits]) : -1;
        var json = body[digits..].ToString();
        switch (type)
        {
            case '0':
                using (var doc = JsonDocument.Parse(json))
                {
                    _connected.TrySetResult(doc.RootElement.GetProperty("sid").GetString()!);
                }

                break;
            case '4':
                _connected.TrySetException(new InvalidOperationException("connect_error " + json));
                break;
            case '2':
                {
                    var array = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
                    _events.Writer.TryWrite(new SioEvent(array[0].GetString()!, array[1..]));
                    break;
                }

            case '3':
                {
                    var array = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
                    if (_acks.TryRemove(ackId, out var tcs))
                    {
                        tcs.TrySetResult(array);
                    }

                    break;
                }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException)
        {
        }

        if (_loop is not null)
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }

        _ws.Dispose();
    }
}
