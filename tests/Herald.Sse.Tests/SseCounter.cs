using System.Diagnostics.Metrics;

namespace Herald.Sse.Tests;

/// <summary>Sums one Herald.Sse counter while alive (process-wide: tests assert lower bounds).</summary>
internal sealed class SseCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value;

    public SseCounter(string name)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SseMetrics.MeterName && instrument.Name == name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _value, value));
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();
}
