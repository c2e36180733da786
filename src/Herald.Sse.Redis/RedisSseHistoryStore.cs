using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Herald.Redis;
using Herald.Redis.Internal;
using Herald.Redis.Resp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Sse.Redis;

/// <summary>
/// An <see cref="ISseHistoryStore"/> in Redis, so that an EventSource reconnecting to any node of a cluster resumes.
/// </summary>
/// <remarks>
/// Keys (prefix <c>herald:sse</c>):
/// <list type="bullet">
/// <item><c>{prefix}:h:{instance}:{audience}</c>: a stream per node and audience (<c>*</c>, <c>t:{topic}</c>,
/// <c>c:{clientId}</c>), entries <c>s</c> = sequence, <c>b</c> = frame body; <c>XADD ... MAXLEN n</c>, then
/// <c>PEXPIRE</c> to the retention.</item>
/// <item><c>{prefix}:s:{instance}:{clientId}</c>: the session, JSON <c>{"topic":joinSeq,...}</c>, <c>SET ... PX</c>.</item>
/// <item><c>{prefix}:closed:{clientId}</c>: present while a closed client must get 204.</item>
/// </list>
/// Writes are pipelined on one multiplexed connection and not awaited (the SSE server calls them under its publish
/// lock); failures are logged once per outage. Entries carry their sequence, not a Redis id, so writes queued while
/// reconnecting may land out of order: reads sort. Whether events were trimmed is inferred (a full stream whose oldest
/// entry is newer than the client's position), so <c>herald:missed</c> may be sent when nothing was lost, never the
/// other way round.
/// </remarks>
public sealed class RedisSseHistoryStore : ISseHistoryStore, IAsyncDisposable
{
    private readonly RedisCommandConnection _commands;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly int _max;
    private readonly long _retentionMs;
    private readonly long _closedRetentionMs;
    private int _failing;

    /// <summary>Creates the store and starts connecting in the background.</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">Logging, or <c>null</c>.</param>
    public RedisSseHistoryStore(IOptions<RedisSseHistoryStoreOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.MaxEventsPerAudience, 0, nameof(o.MaxEventsPerAudience));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Retention, TimeSpan.FromMilliseconds(1), nameof(o.Retention));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ClosedRetention, TimeSpan.FromMilliseconds(1), nameof(o.ClosedRetention));
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<RedisSseHistoryStore>();
        _prefix = o.KeyPrefix;
        _max = o.MaxEventsPerAudience;
        _retentionMs = (long)o.Retention.TotalMilliseconds;
        _closedRetentionMs = (long)o.ClosedRetention.TotalMilliseconds;
        _commands = new RedisCommandConnection(o.Connection, loggerFactory.CreateLogger("Herald.Redis.RedisConnection"));
        _commands.Start();
    }

    /// <inheritdoc />
    public void Append(string instance, SseAudience audience, long seq, byte[] body)
    {
        var key = HistoryKey(instance, audience);
        Fire(["XADD", key, "MAXLEN", _max, "*", "s", seq, "b", body]);
        Fire(["PEXPIRE", key, _retentionMs]);
    }

    /// <inheritdoc />
    public void SaveSession(string instance, string clientId, IReadOnlyDictionary<string, long> topics)
    {
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

        Fire(["SET", SessionKey(instance, clientId), json.WrittenMemory, "PX", _retentionMs]);
    }

    /// <inheritdoc />
    public void MarkClosed(string clientId) => Fire(["SET", ClosedKey(clientId), "1", "PX", _closedRetentionMs]);

    /// <inheritdoc />
    public async ValueTask<SseResumeResult> ResumeAsync(string instance, string clientId, long afterSeq, CancellationToken cancellationToken)
    {
        var closed = _commands.ExecuteAsync(["EXISTS", ClosedKey(clientId)], cancellationToken).AsTask();
        var session = _commands.ExecuteAsync(["GET", SessionKey(instance, clientId)], cancellationToken).AsTask();
        await Task.WhenAll(closed, session).ConfigureAwait(false);
        if (closed.Result.Integer == 1)
        {
            return SseResumeResult.Closed;
        }

        if (session.Result.IsNull || session.Result.Bytes is not { } json)
        {
            return SseResumeResult.Unknown;
        }

        var topics = ParseSession(json);
        var audiences = new List<(SseAudience Audience, long From)>(topics.Count + 2) { (SseAudience.All, afterSeq), (SseAudience.Client(clientId), afterSeq) };
        foreach (var (topic, joinedAt) in topics)
        {
            audiences.Add((SseAudience.Topic(topic), Math.Max(afterSeq, joinedAt)));
        }

        var reads = new Task<RedisResult>[audiences.Count];
        for (var i = 0; i < reads.Length; i++)
        {
            reads[i] = _commands.ExecuteAsync(["XRANGE", HistoryKey(instance, audiences[i].Audience), "-", "+"], cancellationToken).AsTask();
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
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

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _commands.DisposeAsync();

    /// <summary>XRANGE reply: <c>[[id, [field, value, ...]], ...]</c>. Returns whether entries after <paramref name="from"/> may have been trimmed.</summary>
    private bool CollectAfter(RedisResult reply, long from, List<SseStoredEvent> into)
    {
        if (reply.Items is not { } entries)
        {
            return false;
        }

        var oldest = long.MaxValue;
        foreach (var entry in entries)
        {
            if (entry.Items is not [_, { Items: { } fields }])
            {
                continue;
            }

            long seq = -1;
            byte[]? body = null;
            for (var f = 0; f + 1 < fields.Length; f += 2)
            {
                var name = fields[f].Bytes;
                if (name is [(byte)'s'] && Utf8Parser.TryParse(fields[f + 1].Bytes, out long s, out _))
                {
                    seq = s;
                }
                else if (name is [(byte)'b'])
                {
                    body = fields[f + 1].Bytes;
                }
            }

            if (seq < 0 || body is null)
            {
                continue;
            }

            oldest = Math.Min(oldest, seq);
            if (seq > from)
            {
                into.Add(new SseStoredEvent(seq, body));
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

    private void Fire(RedisArgument[] command)
    {
        var pending = _commands.ExecuteAsync(command);
        if (pending.IsCompletedSuccessfully)
        {
            return;
        }

        _ = ObserveAsync(pending);
    }

    private async Task ObserveAsync(ValueTask<RedisResult> pending)
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
