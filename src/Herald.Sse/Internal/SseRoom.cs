namespace Herald.Sse.Internal;

/// <summary>A topic: its members (connected or within their replay window) and its replay history. Guarded by the server lock.</summary>
internal sealed class SseRoom
{
    public HashSet<SseClient> Members { get; } = [];

    public SseHistory History { get; } = new();
}
