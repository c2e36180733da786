using System.Diagnostics.Metrics;
using System.Globalization;
using Herald.EngineIO;

namespace Herald.Bench.Server;

/// <summary>
/// <c>GET /bench/counters</c> → <c>{"slowClientDisconnects":n,"volatileDropped":n}</c>: the Herald.EngineIO counters,
/// summed by a <see cref="MeterListener"/>, for the load tool's slow-consumer scenario.
/// </summary>
internal static class EngineCounters
{
    private static long s_slowClientDisconnects;
    private static long s_volatileDropped;

    public static void Map(WebApplication app)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineIOMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (instrument, value, _, _) =>
        {
            if (instrument.Name == "herald.engineio.slow_client_disconnects")
            {
                Interlocked.Add(ref s_slowClientDisconnects, value);
            }
            else if (instrument.Name == "herald.engineio.volatile_dropped")
            {
                Interlocked.Add(ref s_volatileDropped, value);
            }
        });
        listener.Start();
        app.Lifetime.ApplicationStopping.Register(listener.Dispose);
        app.MapGet("/bench/counters", () => Results.Text(
            string.Create(CultureInfo.InvariantCulture,
                $"{{\"slowClientDisconnects\":{Interlocked.Read(ref s_slowClientDisconnects)},\"volatileDropped\":{Interlocked.Read(ref s_volatileDropped)}}}"),
            "application/json"));
    }
}
