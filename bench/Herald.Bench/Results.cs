using System.Text.Json.Serialization;

namespace Herald.Bench;

/// <summary>One scenario run against one target: what the generator measured.</summary>
internal sealed class ScenarioResult
{
    public string Scenario { get; set; } = "";
    public string Target { get; set; } = "";
    public bool Ok { get; set; }
    public bool Skipped { get; set; }
    public string? Error { get; set; }
    public int Clients { get; set; }
    public int Connected { get; set; }
    public double MeasuredSeconds { get; set; }
    public long MessagesSent { get; set; }
    public long Deliveries { get; set; }
    public long ExpectedDeliveries { get; set; }
    public long Missing { get; set; }
    public long OrderErrors { get; set; }
    public double MessagesPerSecond { get; set; }
    public double DeliveriesPerSecond { get; set; }
    public double P50Ms { get; set; }
    public double P99Ms { get; set; }
    public double P999Ms { get; set; }
    public double MaxMs { get; set; }
    public double ConnectsPerSecond { get; set; }
    public double RssPerConnectionBytes { get; set; }
    public double HeapPerConnectionBytes { get; set; }
    public long ServerRssBytes { get; set; }
    public double ServerCpuPercent { get; set; }
    public double GeneratorCpuPercent { get; set; }
    public double BaselineDeliveriesPerSecond { get; set; }
    public double SlowClientDisconnectSeconds { get; set; }
    public long ServerRssGrowthBytes { get; set; }
    public long ServerHeapGrowthBytes { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SoakSummary? Soak { get; set; }
}

/// <summary>The JSON file written with --json.</summary>
internal sealed class BenchReport
{
    public DateTimeOffset Started { get; set; }
    public MachineInfo Machine { get; set; } = new();
    public string CommandLine { get; set; } = "";
    public List<ScenarioResult> Results { get; set; } = [];
}

internal sealed class MachineInfo
{
    public int Processors { get; set; }
    public string Cpu { get; set; } = "";
    public string Dotnet { get; set; } = "";
    public string Node { get; set; } = "";
    public string Os { get; set; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ScenarioResult))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;

/// <summary>Same types on one line (the generator's RESULT line on stdout).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ScenarioResult))]
internal sealed partial class BenchLineJsonContext : JsonSerializerContext;
