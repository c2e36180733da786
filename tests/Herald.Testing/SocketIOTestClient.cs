using System.Text.Json;

namespace Herald.Testing;

/// <summary>
/// A raw Socket.IO v5 client for tests over <see cref="EngineIOTestClient"/> (WebSocket or long-polling):
/// it sends and receives Socket.IO packets as text (without the Engine.IO <c>4</c>), answers pings, and
/// parses nothing with Herald's codec, so it checks the wire format.
/// </summary>
public sealed class SocketIOTestClient : IAsyncDisposable
{
    private readonly Queue<EngineIOTestPacket> _buffered = new();
    private readonly bool _polling;

    private SocketIOTestClient(EngineIOTestClient engine, bool polling)
    {
        Engine = engine;
        _polling = polling;
    }

    public EngineIOTestClient Engine { get; }

    public static async Task<SocketIOTestClient> ConnectWebSocketAsync(Uri baseUri, string path = "/socket.io/", string? query = null)
        => new(await EngineIOTestClient.ConnectWebSocketAsync(baseUri, path, query), polling: false);

    public static async Task<SocketIOTestClient> ConnectPollingAsync(Uri baseUri, string path = "/socket.io/")
        => new(await EngineIOTestClient.ConnectPollingAsync(baseUri, path), polling: true);

    /// <summary>Sends CONNECT for <paramref name="ns"/> and returns the socket id of the answer (throws on CONNECT_ERROR).</summary>
    public async Task<string> ConnectAsync(string ns = "/", string? auth = null)
    {
        var prefix = ns == "/" ? "" : ns + ",";
        await SendAsync("0" + prefix + auth);
        var answer = await ReceiveTextAsync();
        if (!answer.StartsWith("0" + prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("CONNECT refused: " + answer);
        }

        return JsonDocument.Parse(answer[(1 + prefix.Length)..]).RootElement.GetProperty("sid").GetString()!;
    }

    /// <summary>Sends one Socket.IO packet in its text form (for example <c>2["hello"]</c>).</summary>
    public async Task SendAsync(string packet)
    {
        if (_polling)
        {
            using var response = await Engine.PostAsync("4" + packet);
            response.EnsureSuccessStatusCode();
        }
        else
        {
            await Engine.SendTextAsync("4" + packet);
        }
    }

    /// <summary>Sends a binary attachment.</summary>
    public async Task SendBinaryAsync(byte[] data)
    {
        if (_polling)
        {
            using var response = await Engine.PostAsync("b" + Convert.ToBase64String(data));
            response.EnsureSuccessStatusCode();
        }
        else
        {
            await Engine.SendBinaryAsync(data);
        }
    }

    /// <summary>The next Socket.IO packet (text without the Engine.IO <c>4</c>, or binary); null once the connection closed.</summary>
    public async Task<EngineIOTestPacket?> ReceiveAsync()
    {
        while (true)
        {
            if (_buffered.Count == 0 && !await FillAsync())
            {
                return null;
            }

            var packet = _buffered.Dequeue();
            if (packet.IsBinary)
            {
                return packet;
            }

            switch (packet.Type)
            {
                case '2':
                    if (_polling)
                    {
                        using (await Engine.PostAsync("3"))
                        {
                        }
                    }
                    else
                    {
                        await Engine.SendTextAsync("3");
                    }

                    continue;
                case '6':
                    continue;
                case '1':
                    return null;
                case '4':
                    return new EngineIOTestPacket(packet.Data, null);
                default:
                    throw new InvalidOperationException("Unexpected Engine.IO packet " + packet);
            }
        }
    }

    /// <summary>The next text packet (fails on binary or close).</summary>
    public async Task<string> ReceiveTextAsync()
        => (await ReceiveAsync())?.Text ?? throw new InvalidOperationException("Expected a text packet, got a close or binary.");

    /// <summary>The next binary attachment.</summary>
    public async Task<byte[]> ReceiveBinaryAsync()
        => (await ReceiveAsync())?.Binary ?? throw new InvalidOperationException("Expected a binary packet.");

    /// <summary>Reads until the server closes the connection.</summary>
    public async Task<List<EngineIOTestPacket>> ReceiveUntilClosedAsync()
    {
        var received = new List<EngineIOTestPacket>();
        while (await ReceiveAsync() is { } packet)
        {
            received.Add(packet);
        }

        return received;
    }

    public async ValueTask DisposeAsync() => await Engine.DisposeAsync();

    private async Task<bool> FillAsync()
    {
        if (_polling)
        {
            using var response = await Engine.GetAsync().DefaultTimeout();
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            foreach (var packet in EngineIOTestClient.ParsePayload(await response.Content.ReadAsStringAsync().DefaultTimeout()))
            {
                _buffered.Enqueue(packet);
            }

            return true;
        }

        var next = await Engine.ReceiveAsync();
        if (next is null)
        {
            return false;
        }

        _buffered.Enqueue(next);
        return true;
    }
}
