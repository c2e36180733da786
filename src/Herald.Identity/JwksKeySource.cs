using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity;

/// <summary>
/// The signing keys of a JSON Web Key Set URL, fetched lazily and cached for
/// <see cref="HeraldIdentityOptions.JwksRefreshInterval"/>; a token naming a <c>kid</c> not in the cache triggers a
/// fetch (key rotation), at most once per <see cref="HeraldIdentityOptions.JwksMinRefreshInterval"/>. A failed fetch
/// keeps the keys it had; with no keys at all, tokens are refused.
/// </summary>
internal sealed class JwksKeySource : IDisposable
{
    private readonly Uri _url;
    private readonly HeraldIdentityOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _fetch = new(1, 1);
    private volatile KeySet _keys = new([], null, null);

    public JwksKeySource(Uri url, HeraldIdentityOptions options, ILogger logger, HttpMessageHandler? handler = null)
    {
        _url = url;
        _options = options;
        _logger = logger;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = options.JwksTimeout;
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>The keys to validate a token whose header names <paramref name="kid"/> (or none).</summary>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? kid, CancellationToken cancellationToken)
    {
        var keys = _keys;
        var time = _options.TimeProvider;
        var stale = keys.FetchedAt is not { } fetched || time.GetElapsedTime(fetched) >= _options.JwksRefreshInterval;
        var unknownKid = !string.IsNullOrEmpty(kid) && !keys.HasKid(kid);
        if ((stale || unknownKid) && (keys.AttemptedAt is not { } attempted || time.GetElapsedTime(attempted) >= _options.JwksMinRefreshInterval))
        {
            await _fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Another caller may have fetched while this one waited.
                if (ReferenceEquals(keys, _keys))
                {
                    await FetchAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _fetch.Release();
            }
        }

        return _keys.Keys;
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetTimestamp();
        var previous = _keys;
        try
        {
            using var response = await _http.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            if (response.Content.Headers.ContentLength > _options.JwksMaxBytes)
            {
                throw new InvalidDataException($"The key set is larger than {_options.JwksMaxBytes} bytes.");
            }

            var json = await ReadBoundedAsync(response.Content, _options.JwksMaxBytes, cancellationToken).ConfigureAwait(false);
            var set = new JsonWebKeySet(json);
            var keys = set.GetSigningKeys();
            _keys = new KeySet([.. keys], now, now);
            IdentityLog.JwksFetched(_logger, _url.ToString(), keys.Count);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidDataException or ArgumentException or System.Text.Json.JsonException)
        {
            // Keep what we had; try again no sooner than JwksMinRefreshInterval.
            _keys = previous with { AttemptedAt = now };
            IdentityLog.JwksFetchFailed(_logger, _url.ToString(), e.Message);
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
        using var collected = new MemoryStream();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            collected.Write(buffer, 0, read);
            if (collected.Length > maxBytes)
            {
                throw new InvalidDataException($"The key set is larger than {maxBytes} bytes.");
            }
        }

        return System.Text.Encoding.UTF8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
    }

    public void Dispose()
    {
        _http.Dispose();
        _fetch.Dispose();
    }

    private sealed record KeySet(IReadOnlyList<SecurityKey> Keys, long? FetchedAt, long? AttemptedAt)
    {
        public bool HasKid(string kid)
        {
            foreach (var key in Keys)
            {
                if (string.Equals(key.KeyId, kid, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
