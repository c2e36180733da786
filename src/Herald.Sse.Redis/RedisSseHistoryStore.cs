using System.Buffers;
using System.Text.Json;
using Herald.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Herald.Sse.Redis;

/// <summary>
/// An <see cref="ISseHistoryStore"/> in Redis, so that an EventSource reconnecting to any node of a cluster resumes.
/// </summary>
/// <remarks>
/// Keys (prefix <c>herald:sse</c>):
/// <list type="bullet">
/// <item><c>{prefix}:h:{instance}:{audience}</c>: a stream per node and audience (<c>*</c>, <c>t:{topic}</c>,
/// <c>c:{clientId}</c>), entries <c>s</c> = sequence, <c>b</c> = frame body; <c>XADD ... MAXLEN n</c>, then
/// <c>EXPIRE</c> to the retention.</item>
/// <item><c>{prefix}:s:{instance}:{clientId}</c>: the session, JSON <c>{"topic":joinSeq,...}</c>, <c>SET ... PX</c>.</item>
/// <item><c>{prefix}:closed:{clientId}</c>: present while a closed client must get 204.</item>
/// </list>
/// Writes are pipelined on the multiplexer shared with the bus (<see cref="IHeraldRedisConnection"/>) and not awaited (the SSE server calls them under its publish
/// lock); failures are logged once per outage. Entries carry their sequence, not a Redis id, so writes queued while
/// reconnecting may land out of order: reads sort. Whether events were trimmed is inferred (a full stream whose oldest
/// entry is newer than the client's position), so <c>herald:missed</c> may be sent when nothing was lost, never the
/// other way round.
/// </remarks>
public sealed class RedisSseHistoryStore : ISseHistoryStore
{
    private static readonly RedisValue SeqField = "s";
    private static readonly RedisValue BodyField = "b";
    private readonly IHeraldRedisConnection _connection;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly int _max;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _closedRetention;
    private int _failing;

    /// <summary>Creates the store on a (shared) Redis connection.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or <c>null</c>.</param>
    public RedisSseHistoryStore(IHeraldRedisConnection connection, IOptions<RedisSseHistoryStoreOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxEventsPerAudience, 0, nameof(o.MaxEventsPerAudience));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Retention, TimeSpan.FromMilliseconds(1), nameof(o.Retention));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ClosedRetention, TimeSpan.FromMilliseconds(1), nameof(o.ClosedRetention));
        _connection = connection;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RedisSseHistoryStore>();
        _prefix = o.KeyPrefix;
        _max = o.MaxEventsPerAudience;
        _retention = o.Retention;
        _closedRetention = o.ClosedRetention;
    }

    /// <inheritdoc />
    public void Append(string instance, SseAudience audience, long seq, byte[] body)
    {
        if (Database() is not { } db)
        {
            return;
        }

        var key = HistoryKey(instance, audience);
        Fire(db.StreamAddAsync(key, [new NameValueEntry(SeqField, seq), new NameValueEntry(BodyField, body)], maxLength: _max, useApproximateMaxLength: false));
        Fire(db.KeyExpireAsync(key, _retention));
    }

    /// <inheritdoc />
    public void SaveSession(string instance, string clientId, IReadOnlyDictionary<string, long> topics)
    {
        if (Database() is not { } db)
        {
            return;
        }

        var json = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            foreach (var (topic, joinedAt) in topics)
            {
                writer.WriteNumber(topic, joinedAt);
            }

            writer.WriteEndObject();
        }

        Fire(db.StringSetAsync(SessionKey(instance, clientId), json.WrittenMemory.ToArray(), _retention));
    }

    /// <inheritdoc />
    public void MarkClosed(string clientId)
    {
        if (Database() is { } db)
        {
            Fire(db.StringSetAsync(ClosedKey(clientId), "1", _closedRetention));
        }
    }

    /// <inheritdoc />
    public async ValueTask<SseResumeResult> ResumeAsync(string instance, string clientId, long afterSeq, CancellationToken cancellationToken)
    {
        var db = (_connection.Multiplexer ?? await _connection.GetMultiplexerAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        try
        {
            var closed = db.KeyExistsAsync(ClosedKey(clientId));
            var session = db.StringGetAsync(SessionKey(instance, clientId));
            await Task.WhenAll(closed, session).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (closed.Result)
            {
                return SseResumeResult.Closed;
            }

            if (session.Result.IsNull || (byte[]?)session.Result is not { } json)
            {
                return SseResumeResult.Unknown;
            }

            var topics = ParseSession(json);
            var audiences = new List<(SseAudience Audience, long From)>(topics.Count + 2) { (SseAudience.All, afterSeq), (SseAudience.Client(clientId), afterSeq) };
            foreach (var (topic, joinedAt) in topics)
            {
                audiences.Add((SseAudience.Topic(topic), Math.Max(afterSeq, joinedAt)));
            }

            var reads = new Task<StreamEntry[]>[audiences.Count];
            for (var i = 0; i < reads.Length; i++)
            {
                reads[i] = db.StreamRangeAsync(HistoryKey(instance, audiences[i].Audience));
            }

            await Task.WhenAll(reads).WaitAsync(cancellationToken).ConfigureAwait(false);
            var events = new List<SseStoredEvent>();
            var gap = false;
            for (var i = 0; i < reads.Length; i++)
            {
                gap |= CollectAfter(reads[i].Result, audiences[i].From, events);
            }

            events.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            var unique = new List<SseStoredEvent>(events.Count);
            foreach (var e in events)
            {
                // An event sent to several of the client's audiences is in several streams.
                if (unique.Count == 0 || unique[^1].Seq != e.Seq)
                {
                    unique.Add(e);
                }
            }

            return new SseResumeResult(SseResumeStatus.Found, [.. topics.Keys], unique, gap);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            throw new Herald.Redis.RedisConnectionException("SSE history: reading from Redis failed: " + e.Message, e);
        }
    }

    /// <summary>Adds the entries after <paramref name="from"/>; returns whether entries after it may have been trimmed.</summary>
    private bool CollectAfter(StreamEntry[] entries, long from, List<SseStoredEvent> into)
    {
        var oldest = long.MaxValue;
        foreach (var entry in entries)
        {
            var seqValue = entry[SeqField];
            var bodyValue = entry[BodyField];
            if (seqValue.IsNull || bodyValue.IsNull || !seqValue.TryParse(out long seq) || seq < 0)
            {
                continue;
            }

            oldest = Math.Min(oldest, seq);
            if (seq > from)
            {
                into.Add(new SseStoredEvent(seq, (byte[])bodyValue!));
            }
        }

        return entries.Length >= _max && oldest > from + 1;
    }

    private static Dictionary<string, long> ParseSession(byte[] json)
    {
        var topics = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return topics;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var topic = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var joinedAt))
            {
                topics[topic] = joinedAt;
            }
        }

        return topics;
    }

    private IDatabase? Database()
    {
        if (_connection.Multiplexer is { } multiplexer)
        {
            return multiplexer.GetDatabase();
        }

        // Not connected once yet: the write is lost like any write during an outage (logged once).
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            SseRedisLog.WriteFailed(_logger, new Herald.Redis.RedisConnectionException("Redis has not been reached yet."));
        }

        return null;
    }

    private void Fire(Task pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            return;
        }

        _ = ObserveAsync(pending);
    }

    private async Task ObserveAsync(Task pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
            if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
            {
                SseRedisLog.WritesRecovered(_logger);
            }
        }
        catch (Exception e)
        {
            if (Interlocked.Exchange(ref _failing, 1) == 0)
            {
                SseRedisLog.WriteFailed(_logger, e);
            }
        }
    }

    private string HistoryKey(string instance, SseAudience audience) => _prefix + ":h:" + instance + ":" + audience.Key;

    private string SessionKey(string instance, string clientId) => _prefix + ":s:" + instance + ":" + clientId;

    private string ClosedKey(string clientId) => _prefix + ":closed:" + clientId;
}

internal static partial class SseRedisLog
{
    [LoggerMessage(1, LogLevel.Warning, "SSE history: writing to Redis failed; reconnects to other nodes may not resume until it recovers.", EventName = "WriteFailed")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "SSE history: writes to Redis succeed again.", EventName = "WritesRecovered")]
    public static partial void WritesRecovered(ILogger logger);
}
