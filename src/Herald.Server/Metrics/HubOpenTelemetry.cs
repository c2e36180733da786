using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Herald.Server.Metrics;

/// <summary>
/// Exports every <c>Herald.*</c> meter over OTLP (HTTP/protobuf) when <c>Herald:OpenTelemetry:OtlpEndpoint</c> is set
/// (<c>http://collector:4318/v1/metrics</c>), for Prometheus, Grafana, Datadog... through an OpenTelemetry collector.
/// The provider lives as long as the hub; disposing it flushes the last interval.
/// </summary>
internal sealed class HubOpenTelemetry : IDisposable
{
    private readonly MeterProvider _provider;

    public HubOpenTelemetry(Uri endpoint, TimeSpan interval)
    {
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter("Herald.*")
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = endpoint;
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)interval.TotalMilliseconds;
            })
            .Build();
    }

    public void Dispose() => _provider.Dispose();
}
