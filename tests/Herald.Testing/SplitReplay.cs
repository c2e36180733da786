using System.Buffers;

namespace Herald.Testing;

/// <summary>Builds multi-segment sequences so a codec case can be replayed split at every byte offset.</summary>
public static class SplitReplay
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>The bytes as a two-segment sequence split at <paramref name="offset"/>.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] data, int offset)
    {
        var first = new Segment(data.AsMemory(0, offset), 0);
        var last = first.Append(data.AsMemory(offset));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Every two-segment split of <paramref name="data"/>, from offset 0 to its length, plus one segment per byte.</summary>
    public static IEnumerable<ReadOnlySequence<byte>> AllSplits(byte[] data)
    {
        for (var i = 0; i <= data.Length; i++)
        {
            yield return SplitAt(data, i);
        }

        if (data.Length > 0)
        {
            var first = new Segment(data.AsMemory(0, 1), 0);
            var last = first;
            for (var i = 1; i < data.Length; i++)
            {
                last = last.Append(data.AsMemory(i, 1));
            }

            yield return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
