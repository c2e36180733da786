using System.Buffers;
using Herald.Testing;

namespace Herald.Protocol.Tests;

public class SplitReplayTests
{
    [Fact]
    public void EverySplitKeepsTheBytes()
    {
        var data = "4hello"u8.ToArray();
        var count = 0;
        foreach (var seq in SplitReplay.AllSplits(data))
        {
            Assert.Equal(data, seq.ToArray());
            count++;
        }

        Assert.Equal(data.Length + 2, count);
    }
}
