using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Herald.Testing;
using Xunit.Abstractions;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Mutated traffic to a live server over real sockets: WebSocket frames (valid, fragmented, invalid UTF-8, garbage),
/// polling requests (mutated payloads, queries, sids) and SSE requests (mutated queries and Last-Event-ID). No case may
/// hang (each is bounded), no request may get a 5xx, nothing may be logged at Error level (an escaped exception is),
/// and once the clients are gone every session ends (Engine.IO and SSE counts back to 0) with memory bounded.
/// </summary>
public class ServerFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LiveServer_SurvivesMutatedWebSocketPollingAndSseTraffic()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("HERALD_FUZZ_LIVE_CASES"), out var n) && n > 0 ? n : 1000;
        await using var host = await FuzzHost.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = host.BaseUri, Timeout = CaseTimeout };
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        foreach (var seed in FuzzInput.Seeds())
        {
            var started = Stopwatch.StartNew();
            var next = -1;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            async Task Worker()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < cases)
                {
                    var caseSeed = seed + i;
                    var random = new Random(caseSeed);
                    var kind = random.Next(3);
                    try
                    {
                        var run = kind switch
                        {
                            0 => WebSocketCaseAsync(host, random),
                            1 => PollingCaseAsync(http, random),
                            _ => SseCaseAsync(http, random),
                        };
                        await run.WaitAsync(CaseTimeout);
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue($"case seed {caseSeed} ({(kind == 0 ? "websocket" : kind == 1 ? "polling" : "sse")}): {ex.GetType().Name}: {ex.Message}");
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Worker()));
            output.WriteLine($"seed {seed}: {cases} live cases in {started.Elapsed.TotalSeconds:F1} s = {cases / started.Elapsed.TotalSeconds:N0} cases/s");
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        }

        // Every session ends once its client is gone: closed sockets at once, abandoned polling sessions at the ping timeout.
        var deadline = Stopwatch.StartNew();
        while ((host.Engine.SessionCount != 0 || host.Sse.ConnectionCount != 0) && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }

        output.WriteLine($"sessions left: Engine.IO {host.Engine.SessionCount}, SSE {host.Sse.ConnectionCount} after {deadline.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, host.Engine.SessionCount);
        Assert.Equal(0, host.Sse.ConnectionCount);
        Assert.True(host.Errors.Errors.IsEmpty, "Error-level logs:\n" + string.Join("\n", host.Errors.Errors.Take(5)));

        var growth = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        output.WriteLine($"managed memory growth {growth / 1024:N0} KiB");
        Assert.True(growth < 64 * 1024 * 1024, $"managed memory grew by {growth:N0} bytes");
    }

    private static async Task WebSocketCaseAsync(FuzzHost host, Random random)
    {
        var query = random.Next(10) == 0 ? MutatedQuery(random, "/socket.io/?EIO=4&transport=websocket") : "/socket.io/?EIO=4&transport=websocket";
        RawWebSocketClient client;
        try
        {
            client = await RawWebSocketClient.ConnectAsync(host.BaseUri, query);
        }
        catch (InvalidOperationException)
        {
            return; // a mutated query refused with 400: fine
        }

        await using (client)
        {
            var reader = Task.Run(async () =>
            {
                // Keep reading so the server never stalls on us; stop at the end of the stream.
                while (await client.ReadFrameAsync() is not null)
                {
                }
            });
            try
            {
                if (random.Next(10) < 7)
                {
                    await client.SendFrameAsync(0x1, "40"u8);
                }

                var messages = 1 + random.Next(8);
                for (var m = 0; m < messages; m++)
                {
                    var payload = FuzzInput.Next(random);
                    switch (random.Next(10))
                    {
                        case 0:
                            await client.SendRawAsync(payload); // not even a frame
                            break;
                        case 1:
                            await client.SendFrameAsync(0x2, payload); // binary: an attachment, wanted or not
                            break;
                        case 2 when payload.Length > 1:
                            var cut = random.Next(1, payload.Length);
                            await client.SendFrameAsync(0x1, payload.AsSpan(0, cut), fin: false);
                            await client.SendFrameAsync(0x0, payload.AsSpan(cut));
                            break;
                        case 3:
                            await client.SendFrameAsync(0x9, payload.AsSpan(0, Math.Min(payload.Length, 125)));
                            break;
                        default:
                            await client.SendFrameAsync(0x1, payload);
                            break;
                    }
                }

                if (random.Next(2) == 0)
                {
                    await client.SendFrameAsync(0x8, [0x03, 0xE8]);
                }
            }
            catch (SocketException)
            {
                // The server closed on a protocol error while we were still sending: the expected outcome.
            }

            client.Socket.Shutdown(SocketShutdown.Send);
            await reader.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static async Task PollingCaseAsync(HttpClient http, Random random)
    {
        string? sid = null;
        using (var handshake = await http.GetAsync(random.Next(10) == 0 ? MutatedQuery(random, "/socket.io/?EIO=4&transport=polling") : "/socket.io/?EIO=4&transport=polling"))
        {
            AssertNot5xx(handshake);
            var body = await handshake.Content.ReadAsStringAsync();
            var at = body.IndexOf("\"sid\":\"", StringComparison.Ordinal);
            if (handshake.StatusCode == HttpStatusCode.OK && at >= 0)
            {
                sid = body.Substring(at + 7, 20);
            }
        }

        if (sid is null)
        {
            return;
        }

        var url = "/socket.io/?EIO=4&transport=polling&sid=" + sid;
        var posts = 1 + random.Next(6);
        for (var p = 0; p < posts; p++)
        {
            var target = random.Next(12) == 0 ? MutatedQuery(random, url) : url;
            using var content = new ByteArrayContent(random.Next(6) == 0 ? Encoding.UTF8.GetBytes("40") : FuzzInput.Next(random));
            using var response = await http.PostAsync(target, content);
            AssertNot5xx(response);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                break;
            }

            if (random.Next(3) == 0)
            {
                // A GET answers at once when something is queued, else waits: give up after a moment (the session then ends).
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                try
                {
                    using var get = await http.GetAsync(url, cts.Token);
                    AssertNot5xx(get);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (random.Next(2) == 0)
        {
            using var close = new StringContent("1");
            using var response = await http.PostAsync(url, close);
            AssertNot5xx(response);
        }
    }

    private static async Task SseCaseAsync(HttpClient http, Random random)
    {
        var query = MutatedQuery(random, random.Next(2) == 0 ? "/events?topic=a&topic=b" : "/events?lastEventId=x-1");
        using var request = new HttpRequestMessage(HttpMethod.Get, query);
        if (random.Next(3) == 0)
        {
            // HttpClient sends only printable ASCII in headers (Kestrel would refuse the rest before Herald sees it).
            request.Headers.TryAddWithoutValidation("Last-Event-ID", new string(FuzzInput.Next(random).Select(b => (char)(0x20 + (b % 0x5F))).ToArray()));
        }

        if (random.Next(4) == 0)
        {
            request.Headers.TryAddWithoutValidation("Origin", "https://" + random.Next());
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            AssertNot5xx(response);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
                _ = await stream.ReadAsync(new byte[256], cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Headers or the first bytes did not come in time: not a failure, the stream simply stays open until we leave.
        }
    }

    /// <summary>A query string with mutated parameters (names, values, repeats, garbage percent-escapes).</summary>
    private static string MutatedQuery(Random random, string url)
    {
        var bytes = FuzzInput.Mutate(random, Encoding.UTF8.GetBytes(url[(url.IndexOf('?') + 1)..]));
        var query = new StringBuilder();
        foreach (var b in bytes)
        {
            query.Append(b is > 0x20 and < 0x7F and not (byte)'#' and not (byte)' ' ? ((char)b).ToString() : "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return url[..(url.IndexOf('?') + 1)] + query;
    }

    private static void AssertNot5xx(HttpResponseMessage response)
    {
        if ((int)response.StatusCode >= 500)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: HTTP {(int)response.StatusCode}");
        }
    }
}
