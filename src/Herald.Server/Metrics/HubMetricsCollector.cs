using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Herald.Server.Metrics;

/// <summary>
/// Listens to every <c>Herald.*</c> meter in the process (Herald.SocketIO, Herald.Sse, Herald.Messaging, Herald.EngineIO
/// and any later one) and keeps running totals, so the dashboard can poll <c>/admin/api/metrics</c> and draw rates.
/// Counters add into one slot per instrument and tag set; gauges are observed on demand in <see cref="Snapshot"/>;
/// histograms keep a count and a sum. The same figures are visible outside the process with
/// <c>dotnet-counters monitor -n Herald.Server --counters Herald.SocketIO,Herald.Sse,Herald.Messaging,Herald.EngineIO</c>.
/// </summary>
public sealed class HubMetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly Lock _observeLock = new();

    /// <summary>Starts listening.</summary>
    public HubMetricsCollector()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Herald.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument, new InstrumentState(instrument, this));
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (i, v, tags, state) => ((InstrumentState)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (i, v, tags, state) => ((InstrumentState)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<double>(static (i, v, tags, state) => ((InstrumentState)state!).Record(v, tags));
        _listener.Start();
    }

    /// <summary>Observes the gauges now and returns every figure by name (<c>herald.socketio.connections{transport=websocket}</c>).</summary>
    /// <returns>The figures; a histogram gives <c>name.count</c> and <c>name.sum</c>.</returns>
    public IReadOnlyDictionary<string, double> Snapshot()
    {
        lock (_observeLock)
        {
            foreach (var slot in _slots.Values)
            {
                if (slot.Observable)
                {
                    slot.Value = 0; // an observable that stopped reporting a tag set reads 0, not its last value
                }
            }

            _listener.RecordObservableInstruments();
            var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var (key, slot) in _slots)
            {
                if (slot.Histogram)
                {
                    lock (slot)
                    {
                        result[key + ".count"] = slot.Count;
                        result[key + ".sum"] = slot.Sum;
                    }
                }
                else
                {
                    result[key] = slot.Observable ? slot.Value : Interlocked.Read(ref slot.Total);
                }
            }

            return result;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private sealed class Slot(bool observable, bool histogram)
    {
        public readonly bool Observable = observable;
        public readonly bool Histogram = histogram;
        public long Total;
        public double Value;
        public long Count;
        public double Sum;
    }

    private sealed class InstrumentState(Instrument instrument, HubMetricsCollector owner)
    {
        private readonly bool _observable = instrument.IsObservable;
        private readonly bool _histogram = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);
        private Slot? _untagged;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var slot = tags.IsEmpty ? _untagged ??= owner._slots.GetOrAdd(instrument.Name, _ => new Slot(_observable, _histogram)) : Tagged(tags);
            if (_histogram)
            {
                lock (slot)
                {
                    slot.Count++;
                    slot.Sum += value;
                }
            }
            else if (_observable)
            {
                slot.Value += value;
            }
            else
            {
                Interlocked.Add(ref slot.Total, (long)value);
            }
        }

        private Slot Tagged(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = new StringBuilder(instrument.Name).Append('{');
            for (var i = 0; i < tags.Length; i++)
            {
                key.Append(i == 0 ? "" : ",").Append(tags[i].Key).Append('=').Append(tags[i].Value);
            }

            return owner._slots.GetOrAdd(key.Append('}').ToString(), _ => new Slot(_observable, _histogram));
        }
    }
}
