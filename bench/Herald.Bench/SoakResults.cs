namespace Herald.Bench;

/// <summary>What the soak scenario measured, besides the common fields of <see cref="ScenarioResult"/>.</summary>
internal sealed class SoakSummary
{
    public int Rooms { get; set; }
    public int StableClients { get; set; }
    public double RatePerRoom { get; set; }
    public double SampleSeconds { get; set; }
    public List<SoakSample> Samples { get; set; } = [];

    public long Connects { get; set; }
    public long Disconnects { get; set; }

    /// <summary>Disconnects that went silent (left to the server's heartbeat).</summary>
    public long Silent { get; set; }
    public long ConnectFailures { get; set; }
    public long UnexpectedCloses { get; set; }
    public long SocketIODeliveries { get; set; }
    public long SseDeliveries { get; set; }
    public long Joins { get; set; }
    public long Leaves { get; set; }
    public long Echoes { get; set; }
    public long Binaries { get; set; }
    public long AckFailures { get; set; }
    public long Gaps { get; set; }
    public long Strays { get; set; }
    public long StableMissing { get; set; }
    public long Errors { get; set; }

    public long IdleHeapBeforeBytes { get; set; }
    public long IdleRssBeforeBytes { get; set; }
    public long IdleHeapAfterBytes { get; set; }
    public long IdleRssAfterBytes { get; set; }

    /// <summary>Mean of the first and of the last third of the samples.</summary>
    public double HeapFirstThirdMb { get; set; }
    public double HeapLastThirdMb { get; set; }
    public double RssFirstThirdMb { get; set; }
    public double RssLastThirdMb { get; set; }

    /// <summary>Least-squares slope over every sample, and over the last two thirds (after the warm-up), in MB per minute.</summary>
    public double HeapSlopeMbPerMinute { get; set; }
    public double RssSlopeMbPerMinute { get; set; }
    public double HeapSlopeLateMbPerMinute { get; set; }
    public double RssSlopeLateMbPerMinute { get; set; }

    /// <summary>Server counts once every client had left (all must be 0), and how long they took to get there (-1: never).</summary>
    public int EngineSessionsAfter { get; set; }
    public int SocketsAfter { get; set; }
    public int SseAfter { get; set; }
    public double SecondsToZero { get; set; }
}

/// <summary>One sample of the soak run: the server's state and the throughput since the previous sample.</summary>
internal sealed class SoakSample
{
    public double Seconds { get; set; }
    public long HeapBytes { get; set; }
    public long RssBytes { get; set; }
    public int EngineSessions { get; set; }
    public int Sockets { get; set; }
    public int Sse { get; set; }

    /// <summary>Socket.IO clients (publisher included) and SSE clients the generator had live when it sampled.</summary>
    public int ClientsLive { get; set; }
    public int SseLive { get; set; }
    public double ConnectsPerSecond { get; set; }
    public double DisconnectsPerSecond { get; set; }
    public double DeliveriesPerSecond { get; set; }
    public double AcksPerSecond { get; set; }
}
