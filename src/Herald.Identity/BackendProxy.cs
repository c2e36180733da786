using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Messaging.Publish;
using Microsoft.Extensions.Logging;

namespace Herald.Identity;

/// <summary>The answer of a proxy call, as the hub applies it.</summary>
public sealed class ProxyOutcome
{
    private ProxyOutcome(bool allowed, string? userId, IReadOnlyList<string> channels, JsonElement? data, string? errorCode, string? errorMessage)
    {
        IsAllowed = allowed;
        UserId = userId;
        Channels = channels;
        Data = data;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>Whether the backend allowed it.</summary>
    public bool IsAllowed { get; }

    /// <summary>The user id of a connect answer.</summary>
    public string? UserId { get; }

    /// <summary>The channels of a connect answer.</summary>
    public IReadOnlyList<string> Channels { get; }

    /// <summary>The <c>data</c> of the answer (publish: the data to publish instead), if any.</summary>
    public JsonElement? Data { get; }

    /// <summary>Why not: the backend's own code (<c>{"error":{"code"}}</c>, else <c>proxy_denied</c>), <c>proxy_unavailable</c> or <c>proxy_bad_answer</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>A human-readable reason.</summary>
    public string? ErrorMessage { get; }

    internal static ProxyOutcome Allow(string? userId, IReadOnlyList<string> channels, JsonElement? data) => new(true, userId, channels, data, null, null);

    internal static ProxyOutcome Deny(string code, string message) => new(false, null, [], null, code, message);
}

/// <summary>The <c>code</c>s of proxy refusals that are not the backend's own.</summary>
public static class ProxyErrorCodes
{
    /// <summary>The backend refused without a code (a 4xx, or <c>{"error":{}}</c>).</summary>
    public const string Denied = "proxy_denied";

    /// <summary>The backend did not answer in time, could not be reached, or answered 5xx, after the retries.</summary>
    public const string Unavailable = "proxy_unavailable";

    /// <summary>The backend's answer was not the expected JSON (or was too large).</summary>
    public const string BadAnswer = "proxy_bad_answer";
}

/// <summary>
/// Calls the application's proxy endpoints: POST JSON, bounded time and size, retries on transport failures and 5xx,
/// a bounded LRU cache of answers (<see cref="HeraldProxyOptions.CacheTtl"/>, <see cref="HeraldProxyOptions.CacheSize"/>).
/// </summary>
internal sealed class BackendProxy : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private readonly HeraldIdentityOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly AnswerCache _cache;

    public BackendProxy(HeraldIdentityOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _cache = new AnswerCache(options.Proxy.CacheSize, options.Proxy.CacheTtl, options.TimeProvider);
    }

    public ValueTask<ProxyOutcome> ConnectAsync(string transport, string? ns, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var request = new ConnectRequest(transport, ns, headers);
        var body = JsonSerializer.SerializeToUtf8Bytes(request, s_json);
        return CallAsync(_options.Proxy.ConnectUrl!, body, "c:" + Convert.ToHexString(SHA256.HashData(body)), connect: true, cancellationToken);
    }

    public ValueTask<ProxyOutcome> SubscribeAsync(string transport, string? user, string channel, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new SubscribeRequest(transport, user, channel), s_json);
        return CallAsync(_options.Proxy.SubscribeUrl!, body, "s:" + Convert.ToHexString(SHA256.HashData(body)), connect: false, cancellationToken);
    }

    public ValueTask<ProxyOutcome> PublishAsync(string transport, string? user, string channel, string eventName, JsonElement data, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new PublishRequest(transport, user, channel, eventName, data), s_json);
        return CallAsync(_options.Proxy.PublishUrl!, body, null, connect: false, cancellationToken);
    }

    private async ValueTask<ProxyOutcome> CallAsync(Uri url, byte[] body, string? cacheKey, bool connect, CancellationToken cancellationToken)
    {
        if (cacheKey is not null && _cache.TryGet(cacheKey, out var cached))
        {
            return cached;
        }

        var proxy = _options.Proxy;
        var failure = "";
        for (var attempt = 0; attempt <= Math.Max(0, proxy.Retries); attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(proxy.Timeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                foreach (var (name, value) in proxy.Headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status >= 500)
                {
                    failure = "HTTP " + status;
                    continue;
                }

                ProxyOutcome outcome;
                if (status is < 200 or >= 300)
                {
                    outcome = ProxyOutcome.Deny(ProxyErrorCodes.Denied, "The application refused (HTTP " + status + ").");
                }
                else
                {
                    var json = await ReadBoundedAsync(response.Content, proxy.MaxResponseBytes, timeout.Token).ConfigureAwait(false);
                    outcome = json is null
                        ? ProxyOutcome.Deny(ProxyErrorCodes.BadAnswer, "The application's answer is too large.")
                        : Parse(json, connect);
                }

                if (cacheKey is not null && outcome.ErrorCode != ProxyErrorCodes.BadAnswer)
                {
                    _cache.Set(cacheKey, outcome);
                }

                return outcome;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = "timed out after " + proxy.Timeout.TotalMilliseconds + " ms";
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
            }
        }

        IdentityLog.ProxyFailed(_logger, url.GetLeftPart(UriPartial.Path), failure);
        return ProxyOutcome.Deny(ProxyErrorCodes.Unavailable, "The application did not answer.");
    }

    private static ProxyOutcome Parse(byte[] json, bool connect)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Bad("not an object");
            }

            if (root.TryGetProperty("error"u8, out var error))
            {
                var code = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code"u8, out var c) && c.ValueKind == JsonValueKind.String
                    && c.GetString() is { Length: > 0 and <= 64 } text ? text : ProxyErrorCodes.Denied;
                var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message"u8, out var m) && m.ValueKind == JsonValueKind.String
                    ? m.GetString()! : "The application refused.";
                return ProxyOutcome.Deny(code, message.Length > 200 ? message[..200] : message);
            }

            if (!root.TryGetProperty("result"u8, out var result) || result.ValueKind != JsonValueKind.Object)
            {
                return Bad("neither result nor error");
            }

            JsonElement? data = result.TryGetProperty("data"u8, out var d) ? d.Clone() : null;
            if (!connect)
            {
                return ProxyOutcome.Allow(null, [], data);
            }

            if (!result.TryGetProperty("user"u8, out var user) || user.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(user.GetString()))
            {
                return Bad("result.user is not a valid user id");
            }

            var channels = new List<string>();
            if (result.TryGetProperty("channels"u8, out var list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    return Bad("result.channels is not an array");
                }

                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String || !HeraldRooms.IsValidName(item.GetString()))
                    {
                        return Bad("a channel is not a valid name");
                    }

                    channels.Add(item.GetString()!);
                }
            }

            return ProxyOutcome.Allow(user.GetString(), channels, data);
        }
        catch (JsonException)
        {
            return Bad("not JSON");
        }

        static ProxyOutcome Bad(string why) => ProxyOutcome.Deny(ProxyErrorCodes.BadAnswer, "The application's answer is not valid: " + why + ".");
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var collected = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            collected.Write(buffer, 0, read);
            if (collected.Length > maxBytes)
            {
                return null;
            }
        }

        return collected.ToArray();
    }

    public void Dispose() => _http.Dispose();

    private sealed record ConnectRequest(string Transport, string? Namespace, IReadOnlyDictionary<string, string> Headers);

    private sealed record SubscribeRequest(string Transport, string? User, string Channel);

    private sealed record PublishRequest(string Transport, string? User, string Channel, string Event, JsonElement Data);

    /// <summary>A bounded LRU map of answers with a time to live.</summary>
    private sealed class AnswerCache(int size, TimeSpan ttl, TimeProvider time)
    {
        private readonly Dictionary<string, LinkedListNode<(string Key, ProxyOutcome Value, long At)>> _map = new(StringComparer.Ordinal);
        private readonly LinkedList<(string Key, ProxyOutcome Value, long At)> _order = new();
        private readonly Lock _lock = new();

        public bool TryGet(string key, out ProxyOutcome value)
        {
            value = null!;
            if (ttl <= TimeSpan.Zero || size <= 0)
            {
                return false;
            }

            lock (_lock)
            {
                if (!_map.TryGetValue(key, out var node))
                {
                    return false;
                }

                if (time.GetElapsedTime(node.Value.At) >= ttl)
                {
                    _order.Remove(node);
                    _map.Remove(key);
                    return false;
                }

                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        public void Set(string key, ProxyOutcome value)
        {
            if (ttl <= TimeSpan.Zero || size <= 0)
            {
                return;
            }

            lock (_lock)
            {
                if (_map.Remove(key, out var existing))
                {
                    _order.Remove(existing);
                }

                while (_map.Count >= size && _order.Last is { } oldest)
                {
                    _order.RemoveLast();
                    _map.Remove(oldest.Value.Key);
                }

                _map[key] = _order.AddFirst((key, value, time.GetTimestamp()));
            }
        }
    }
}
