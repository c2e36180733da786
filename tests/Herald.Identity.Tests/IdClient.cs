using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Testing;

namespace Herald.Identity.Tests;

/// <summary>One event an <see cref="IdClient"/> received: name, JSON arguments, and the ack id the server asked for (-1: none).</summary>
internal sealed record IdEvent(string Name, JsonElement[] Args, int AckId);

/// <summary>The server refused the Socket.IO CONNECT: the CONNECT_ERROR's <c>{message, data}</c>.</summary>
internal sealed class ConnectRefusedException(JsonElement error) : Exception("connect_error " + error.GetRawText())
{
    public JsonElement Error { get; } = error;

    public string Code => Error.GetProperty("data").GetProperty("code").GetString()!;
}

/// <summary>
/// A minimal Socket.IO v5 client over a WebSocket-only Engine.IO v4 session that sends a handshake <c>auth</c> object
/// (socket.io-client's <c>auth: { token }</c>) and optional headers; it answers pings, queues events, acks on demand.
/// </summary>
internal sealed class IdClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws = new();
    private readonly Channel<IdEvent> _events = Channel.CreateUnbounded<IdEvent>();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement[]>> _acks = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly TaskCompletionSource<string> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _auth = "";
    private int _nextAck;
    private Task? _loop;

    public string Id { get; private set; } = "";

    /// <summary>Completes when the server disconnects the socket (DISCONNECT packet) or the transport closes.</summary>
    public Task Disconnected => _disconnected.Task;

    public static async Task<IdClient> ConnectAsync(string baseUrl, object? auth = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = new IdClient { _auth = auth is null ? "" : JsonSerializer.Serialize(auth, JsonSerializerOptions.Web) };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            client._ws.Options.SetRequestHeader(name, value);
        }

        var uri = new Uri(baseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket");
        await client._ws.ConnectAsync(uri, CancellationToken.None).DefaultTimeout();
        client._loop = Task.Run(client.ReceiveLoopAsync);
        try
        {
            client.Id = await client._connected.Task.DefaultTimeout();
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return client;
    }

    /// <summary>Connects and expects a refusal; returns its CONNECT_ERROR.</summary>
    public static async Task<ConnectRefusedException> RefusedAsync(string baseUrl, object? auth = null, IReadOnlyDictionary<string, string>? headers = null)
        => await Assert.ThrowsAsync<ConnectRefusedException>(() => ConnectAsync(baseUrl, auth, headers));

    public async Task<IdEvent> NextAsync(string name)
    {
        var e = await _events.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.True(e.Name == name, $"expected '{name}', got {e.Name} {string.Join(",", e.Args.Select(a => a.GetRawText()))}");
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

    public Task AckAsync(int ackId, params object?[] args) => SendAsync("43" + ackId + JsonSerializer.Serialize(args, JsonSerializerOptions.Web));

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
            _disconnected.TrySetResult();
        }
    }

    private async Task HandleAsync(string text)
    {
        switch (text[0])
        {
            case '0':
                await SendAsync("40" + _auth);
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
            case '1':
                _disconnected.TrySetResult();
                break;
            case '4':
                using (var doc = JsonDocument.Parse(json))
                {
                    _connected.TrySetException(new ConnectRefusedException(doc.RootElement.Clone()));
                }

                break;
            case '2':
                {
                    var array = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
                    _events.Writer.TryWrite(new IdEvent(array[0].GetString()!, array[1..], ackId));
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
