namespace Herald.Bench.Generator;

/// <summary>
/// Log-linear histogram in the HdrHistogram spirit: values below 32 get exact buckets; above that,
/// every power of two is split into 32 linear sub-buckets, so any recorded value is known to within
/// 1/32 (~3%). Values are nanoseconds; recording is one Interlocked increment, safe from any thread.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int SubCount = 1 << SubBits;
    private const int MaxMsb = 44; // ~4.8 hours in ns: anything larger is clamped
    private readonly long[] _counts = new long[(MaxMsb - SubBits + 2) * SubCount];
    private long _total;
    private long _max;

    public long Count => Interlocked.Read(ref _total);

    public long Max => Interlocked.Read(ref _max);

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _total);
        long max = Volatile.Read(ref _max);
        while (value > max)
        {
            long seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>The value at quantile q (0..1): the midpoint of the bucket holding that rank.</summary>
    public long ValueAt(double q)
    {
        long total = Count;
        if (total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(Midpoint(i), Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubCount)
        {
            return (int)value;
        }

        int msb = 63 - (int)long.LeadingZeroCount(value);
        if (msb > MaxMsb)
        {
            msb = MaxMsb;
            value = (1L << (MaxMsb + 1)) - 1;
        }

        int sub = (int)(value >> (msb - SubBits)) & (SubCount - 1);
        return ((msb - SubBits + 1) * SubCount) + sub;
    }

    internal static long Midpoint(int index)
    {
        if (index < SubCount)
        {
            return index;
        }

        int block = index / SubCount;
        int sub = index % SubCount;
        int shift = block - 1;
        long low = (long)(SubCount + sub) << shift;
        return low + ((1L << shift) >> 1);
    }
}
