using System.Net;

namespace Herald.Testing.Sse;

/// <summary>
/// A minimal EventSource for tests: one streaming GET, parsed with <see cref="SseStreamParser"/>. Pull-based: bytes
/// are read only while the test asks for events, so a client that stops asking is a client that stops reading
/// (what a slow-client test needs). Every read is bounded by the default test timeout.
/// </summary>
public sealed class SseTestClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Stream? _stream;
    private readonly SseStreamParser _parser = new();
    private readonly List<SseTestEvent> _pending = [];
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _pendingIndex;
    private bool _ended;

    private SseTestClient(HttpResponseMessage response, Stream? stream)
    {
        _response = response;
        _stream = stream;
    }

    public HttpResponseMessage Response => _response;

    public HttpStatusCode StatusCode => _response.StatusCode;

    /// <summary>The last event id seen, as EventSource would send it in <c>Last-Event-ID</c> on reconnect.</summary>
    public string LastEventId => _parser.LastEventId;

    /// <summary>The last <c>retry:</c> value seen.</summary>
    public long? Retry => _parser.Retry;

    /// <summary>Comments seen so far (heartbeats), in order.</summary>
    public List<string> Comments { get; } = [];

    /// <summary>Connects like EventSource: <c>Accept: text/event-stream</c>, no cache, and <c>Last-Event-ID</c> when given.</summary>
    public static async Task<SseTestClient> ConnectAsync(HttpClient http, string url, string? lastEventId = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
        if (!string.IsNullOrEmpty(lastEventId))
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        configure?.Invoke(request);
        using var cts = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutSpan);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var stream = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStreamAsync(cts.Token) : null;
        return new SseTestClient(response, stream);
    }

    /// <summary>The next dispatched event (comments are recorded in <see cref="Comments"/> and skipped). Throws at end of stream.</summary>
    public async Task<SseTestEvent> ReadEventAsync()
        => await ReadOrEndAsync() ?? throw new EndOfStreamException("The event stream ended.");

    /// <summary>The next comment (events before it are an error).</summary>
    public async Task<string> ReadCommentAsync()
    {
        var next = await NextAsync(includeComments: true) ?? throw new EndOfStreamException("The event stream ended.");
        return next.IsComment ? next.Data : throw new InvalidOperationException($"Expected a comment, got event '{next.Type}': {next.Data}");
    }

    /// <summary>The next dispatched event, or null when the stream ended.</summary>
    public Task<SseTestEvent?> ReadOrEndAsync() => NextAsync(includeComments: false);

    /// <summary>Reads until the stream ends; returns the events read on the way.</summary>
    public async Task<List<SseTestEvent>> ReadToEndAsync()
    {
        var events = new List<SseTestEvent>();
        while (await ReadOrEndAsync() is { } e)
        {
            events.Add(e);
        }

        return events;
    }

    private async Task<SseTestEvent?> NextAsync(bool includeComments)
    {
        while (true)
        {
            while (_pendingIndex < _pending.Count)
            {
                var e = _pending[_pendingIndex++];
                if (e.IsComment)
                {
                    Comments.Add(e.Data);
                    if (!includeComments)
                    {
                        continue;
                    }
                }

                return e;
            }

            _pending.Clear();
            _pendingIndex = 0;
            if (_ended || _stream is null)
            {
                return null;
            }

            using var cts = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutSpan);
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer, cts.Token);
            }
            catch (OperationCanceledException e) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException("No SSE data within the default timeout.", e);
            }
            catch (HttpRequestException)
            {
                // The server aborted the connection (e.g. a slow client it dropped): the stream ended.
                read = 0;
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                _ended = true;
                continue;
            }

            _parser.Feed(_buffer.AsSpan(0, read), _pending);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _response.Dispose();
    }
}
