using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.Bench.Generator.Soak;

/// <summary>
/// Socket.IO over Engine.IO long-polling (no upgrade), on a shared <see cref="HttpClient"/>:
/// <c>GET ?EIO=4&amp;transport=polling</c> → <c>0{"sid":…}</c>; then one GET at a time (the poll: records separated by
/// <c>\x1e</c>) and POSTs serialized by a lock (<c>40</c>, events, pongs, binary attachments as <c>b</c> + base64).
/// Leaving gracefully POSTs <c>1</c> (Engine.IO close); abruptly aborts the pending GET; silently lets the pending GET
/// return (at the server's next ping, within 25 s) and then neither answers nor polls again, so only the server's
/// heartbeat ends the session.
/// </summary>
internal sealed class SoakPollingClient : ISoakSocketIOClient, ISoakTransport
{
    private static readonly MediaTypeHeaderValue TextPlain = new("text/plain") { CharSet = "UTF-8" };

    private readonly HttpClient _http;
    private readonly SemaphoreSlim _postLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private string _url = "";
    private Task _pollLoop = Task.CompletedTask;
    private volatile bool _closing;
    private volatile bool _silent;

    private SoakPollingClient(HttpClient http, SoakCounters counters, bool stable)
    {
        _http = http;
        IO = new SoakSocketIO(this, counters, stable);
    }

    public SoakKind Kind => SoakKind.Polling;

    public SoakSocketIO IO { get; }

    public long Received => IO.Received;

    public string? Failure => _closing ? null : IO.Failure;

    /// <summary>An <see cref="HttpClient"/> for every polling client: pooled connections, no limit per server, no timeout of its own.</summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static async Task<SoakPollingClient> ConnectAsync(HttpClient http, int port, SoakCounters counters, bool stable, TimeSpan timeout)
    {
        var client = new SoakPollingClient(http, counters, stable);
        using var cts = new CancellationTokenSource(timeout);
        string baseUrl = $"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling";
        string open = await http.GetStringAsync(baseUrl, cts.Token);
        if (open.Length < 2 || open[0] != '0')
        {
            throw new IOException("unexpected polling handshake: " + open[..Math.Min(open.Length, 100)]);
        }

        int end = open.IndexOf('\x1e');
        using (var doc = JsonDocument.Parse(end < 0 ? open.AsMemory(1) : open.AsMemory(1, end - 1)))
        {
            client._url = baseUrl + "&sid=" + Uri.EscapeDataString(doc.RootElement.GetProperty("sid").GetString()!);
        }

        await client.PostAsync(SoakSocketIO.ConnectPacketText);
        client._pollLoop = client.PollLoopAsync();
        try
        {
            await client.IO.Connected.WaitAsync(cts.Token);
        }
        catch
        {
            await client.CloseAsync(SoakLeave.Abrupt);
            throw;
        }

        return client;
    }

    public async Task CloseAsync(SoakLeave how)
    {
        _closing = true;
        if (how == SoakLeave.Silent)
        {
            _silent = true;
            await _pollLoop.WaitAsync(SoakWebSocketClient.SilentLimit).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        else if (how == SoakLeave.Graceful)
        {
            await PostAsync("1");
        }

        await _stop.CancelAsync();
        await _pollLoop;
        _stop.Dispose();
    }

    ValueTask ISoakTransport.SendAsync(string packet, byte[]? attachment)
        => new(PostAsync(attachment is null ? packet : packet + "\x1e" + "b" + Convert.ToBase64String(attachment)));

    ValueTask ISoakTransport.SendPongAsync() => new(PostAsync("3"));

    private async Task PostAsync(string body)
    {
        await _postLock.WaitAsync();
        try
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = TextPlain;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var response = await _http.PostAsync(_url, content, cts.Token);
            if (!response.IsSuccessStatusCode && !_closing)
            {
                IO.Fail($"POST answered {(int)response.StatusCode}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            if (!_closing)
            {
                IO.Fail("POST failed: " + e.Message);
            }
        }
        finally
        {
            _postLock.Release();
        }
    }

    private async Task PollLoopAsync()
    {
        var ct = _stop.Token;
        try
        {
            while (!ct.IsCancellationRequested && IO.Failure is null)
            {
                using var response = await _http.GetAsync(_url, HttpCompletionOption.ResponseContentRead, ct);
                if (!response.IsSuccessStatusCode)
                {
                    if (!_closing)
                    {
                        IO.Fail($"poll answered {(int)response.StatusCode}");
                    }

                    return;
                }

                byte[] body = await response.Content.ReadAsByteArrayAsync(ct);
                if (_silent)
                {
                    return;
                }

                var rest = body.AsSpan();
                while (!rest.IsEmpty)
                {
                    int sep = rest.IndexOf((byte)0x1e);
                    var record = sep < 0 ? rest : rest[..sep];
                    rest = sep < 0 ? default : rest[(sep + 1)..];
                    if (!record.IsEmpty && record[0] != (byte)'b')
                    {
                        if (record[0] == (byte)'1' && _closing)
                        {
                            return;
                        }

                        IO.OnEnginePacket(record);
                    }
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            if (!_closing)
            {
                IO.Fail("poll failed: " + e.Message);
            }
        }
    }
}
