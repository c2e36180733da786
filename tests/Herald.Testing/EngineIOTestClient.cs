using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.Testing;

/// <summary>One Engine.IO packet as a test client saw it: text (type digit + data) or a binary message.</summary>
public sealed record EngineIOTestPacket(string? Text, byte[]? Binary)
{
    public bool IsBinary => Binary is not null;

    /// <summary>The packet type digit of a text packet, or '4' for binary.</summary>
    public char Type => Text is null ? '4' : Text[0];

    /// <summary>The data after the type digit of a text packet.</summary>
    public string Data => Text is null ? "" : Text[1..];

    public override string ToString() => Text ?? "b" + Convert.ToBase64String(Binary!);
}

/// <summary>
/// A raw Engine.IO v4 client for tests: HttpClient for long-polling, ClientWebSocket for the WebSocket
/// transport. It parses what it receives itself (not with Herald's codec), so it checks the wire format.
/// Every wait has the default test timeout.
/// </summary>
public sealed class EngineIOTestClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly string _path;

    private EngineIOTestClient(Uri baseUri, string path, HttpClient http)
    {
        BaseUri = baseUri;
        _path = path;
        _http = http;
    }

    public Uri BaseUri { get; }

    public HttpClient Http => _http;

    /// <summary>The session id, once the handshake is done.</summary>
    public string? Sid { get; set; }

    /// <summary>The handshake's JSON (sid, upgrades, pingInterval, pingTimeout, maxPayload).</summary>
    public JsonElement Handshake { get; private set; }

    /// <summary>The WebSocket, when one was opened.</summary>
    public ClientWebSocket? WebSocket { get; private set; }

    /// <summary>A client that has not shaken hands yet (to send raw requests).</summary>
    public static EngineIOTestClient Create(Uri baseUri, string path = "/engine.io/")
        => new(baseUri, path, new HttpClient { BaseAddress = baseUri, Timeout = TaskTimeoutExtensions.DefaultTimeoutSpan });

    /// <summary>Opens a polling session (GET handshake) and checks the open packet.</summary>
    public static async Task<EngineIOTestClient> ConnectPollingAsync(Uri baseUri, string path = "/engine.io/")
    {
        var client = Create(baseUri, path);
        using var response = await client._http.GetAsync(client.Url("polling", withSid: false)).DefaultTimeout();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Handshake failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        client.ReadHandshake(body);
        return client;
    }

    /// <summary>Opens a WebSocket-only session and reads its open packet.</summary>
    public static async Task<EngineIOTestClient> ConnectWebSocketAsync(Uri baseUri, string path = "/engine.io/", string? query = null)
    {
        var client = Create(baseUri, path);
        client.Query = query;
        await client.OpenWebSocketAsync(withSid: false);
        var open = await client.ReceiveAsync() ?? throw new InvalidOperationException("Closed before the handshake.");
        client.ReadHandshake(open.Text!);
        return client;
    }

    /// <summary>Query parameters added to every request of this client (<c>token=abc</c>), as a page's <c>io(url, { query })</c> does.</summary>
    public string? Query { get; set; }

    /// <summary>The endpoint URL for a transport, with EIO=4 and (optionally) the sid.</summary>
    public string Url(string transport, bool withSid = true, string? extraQuery = null)
    {
        var url = $"{_path}?EIO=4&transport={transport}";
        if (Query is not null)
        {
            url += "&" + Query;
        }

        if (withSid && Sid is not null)
        {
            url += "&sid=" + Uri.EscapeDataString(Sid);
        }

        return extraQuery is null ? url : url + "&" + extraQuery;
    }

    /// <summary>A raw GET on the polling URL (the caller checks the status).</summary>
    public Task<HttpResponseMessage> GetAsync(CancellationToken cancellationToken = default)
        => _http.GetAsync(Url("polling"), cancellationToken);

    /// <summary>A GET that must answer 200; returns the payload's packets.</summary>
    public async Task<IReadOnlyList<EngineIOTestPacket>> PollAsync()
    {
        using var response = await GetAsync().DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Poll failed: {(int)response.StatusCode} {body}");
        }

        return ParsePayload(body);
    }

    /// <summary>A raw POST of a polling payload (the caller checks the status).</summary>
    public Task<HttpResponseMessage> PostAsync(string payload)
        => _http.PostAsync(Url("polling"), new StringContent(payload, Encoding.UTF8, "text/plain")).DefaultTimeout();

    /// <summary>Opens a WebSocket on the endpoint, with the session's sid (an upgrade) or without (a new session).</summary>
    public async Task OpenWebSocketAsync(bool withSid)
    {
        var ws = new ClientWebSocket();
        var builder = new UriBuilder(BaseUri) { Scheme = BaseUri.Scheme == "https" ? "wss" : "ws" };
        var uri = new Uri(builder.Uri, Url("websocket", withSid));
        await ws.ConnectAsync(uri, CancellationToken.None).DefaultTimeout();
        WebSocket = ws;
    }

    public Task SendTextAsync(string packet)
        => Ws.SendAsync(Encoding.UTF8.GetBytes(packet), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    public Task SendBinaryAsync(byte[] data)
        => Ws.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    /// <summary>The next WebSocket message, or null when the server closed the WebSocket.</summary>
    public async Task<EngineIOTestPacket?> ReceiveAsync()
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await Ws.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            }
            catch (WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (Ws.State == WebSocketState.CloseReceived)
                {
                    await Ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
                }

                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return result.MessageType == WebSocketMessageType.Binary
                    ? new EngineIOTestPacket(null, message.ToArray())
                    : new EngineIOTestPacket(Encoding.UTF8.GetString(message.ToArray()), null);
            }
        }
    }

    /// <summary>Reads messages until the server closes the WebSocket; returns what came before the close.</summary>
    public async Task<List<EngineIOTestPacket>> ReceiveUntilClosedAsync()
    {
        var received = new List<EngineIOTestPacket>();
        while (await ReceiveAsync() is { } packet)
        {
            received.Add(packet);
        }

        return received;
    }

    /// <summary>The WebSocket's close status once closed.</summary>
    public WebSocketCloseStatus? CloseStatus => WebSocket?.CloseStatus;

    /// <summary>Sends <c>2probe</c> on the (already opened) upgrade WebSocket and checks the <c>3probe</c> answer.</summary>
    public async Task ProbeAsync()
    {
        await SendTextAsync("2probe");
        var answer = await ReceiveAsync();
        if (answer?.Text != "3probe")
        {
            throw new InvalidOperationException($"Expected 3probe, got {answer}");
        }
    }

    /// <summary>Splits a polling payload on <c>\x1e</c>; <c>b</c>-prefixed packets are base64 binary.</summary>
    public static List<EngineIOTestPacket> ParsePayload(string body)
    {
        var packets = new List<EngineIOTestPacket>();
        foreach (var part in body.Split('\u001e'))
        {
            packets.Add(part.StartsWith('b')
                ? new EngineIOTestPacket(null, Convert.FromBase64String(part[1..]))
                : new EngineIOTestPacket(part, null));
        }

        return packets;
    }

    private ClientWebSocket Ws => WebSocket ?? throw new InvalidOperationException("No WebSocket opened.");

    private void ReadHandshake(string openPacket)
    {
        if (!openPacket.StartsWith('0'))
        {
            throw new InvalidOperationException("Not an open packet: " + openPacket);
        }

        using var doc = JsonDocument.Parse(openPacket[1..]);
        Handshake = doc.RootElement.Clone();
        Sid = Handshake.GetProperty("sid").GetString();
    }

    public async ValueTask DisposeAsync()
    {
        if (WebSocket is { } ws)
        {
            if (ws.State == WebSocketState.Open)
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                }
            }

            ws.Dispose();
        }

        _http.Dispose();
    }
}
