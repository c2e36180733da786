namespace Herald.Bench.Generator;

/// <summary>What a fan-out sink counts per receiving client, whatever its transport (WebSocket or SSE).</summary>
internal abstract class DeliveryCounters
{
    /// <summary>Deliveries received (written by the receive loop only).</summary>
    public long Received;

    /// <summary>Next sequence number expected from the single fan-out publisher (order check).</summary>
    public long NextSeq;

    /// <summary>Deliveries that arrived out of order or twice.</summary>
    public long OrderErrors;
}

/// <summary>Receives the deliveries of clients that are not <see cref="BenchClient"/>s (the SSE clients).</summary>
internal interface ICountingSink
{
    void OnDelivery(DeliveryCounters client, ReadOnlySpan<byte> payload);
}
