namespace Herald.Sse.Redis;

/// <summary>Options of <see cref="RedisSseHistoryStore"/>.</summary>
public sealed class RedisSseHistoryStoreOptions
{
    /// <summary>Prefix of every key. Default <c>herald:sse</c>.</summary>
    public string KeyPrefix { get; set; } = "herald:sse";

    /// <summary>Events kept per node and audience (<c>XADD ... MAXLEN</c>). Default 256, like <see cref="SseOptions.MaxHistory"/>.</summary>
    public int MaxEventsPerAudience { get; set; } = 256;

    /// <summary>How long events and sessions are kept after their last write. Default 2 min, like <see cref="SseOptions.ReplayWindow"/>.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a closed client id is remembered. Default 5 min, like <see cref="SseOptions.ClosedClientRetention"/>.</summary>
    public TimeSpan ClosedRetention { get; set; } = TimeSpan.FromMinutes(5);
}
