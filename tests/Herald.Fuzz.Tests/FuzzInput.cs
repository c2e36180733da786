using System.Text;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Seeds and mutations. Every case is derived from one <see cref="Random"/> so a failing case is replayed by its
/// seed: the run seed is printed, and each case's seed is <c>runSeed + index</c>.
/// </summary>
internal static class FuzzInput
{
    /// <summary>Valid inputs (Engine.IO packets, polling payloads, Socket.IO packets) that the mutations start from.</summary>
    public static readonly string[] TextSeeds =
    [
        "4hello", "2", "3", "2probe", "5", "6", "1", "0", "40", "40/admin,", "40{\"token\":\"x\"}", "41", "41/admin,",
        "42[\"chat\",\"hi\"]", "42/admin,7[\"e\",{\"a\":1}]", "4212[\"ack-me\"]", "43/admin,12[\"ok\"]", "4312[]",
        "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]", "452-/admin,3[\"two\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
        "461-12[{\"_placeholder\":true,\"num\":0}]", "44{\"message\":\"nope\"}", "42[\"a\",1,2.5,true,null,[1,[2,[3]]],{\"k\":\"v\"}]",
        "4hello\u001e4world\u001e2", "bAQID\u001e4x", "42[\"x\"]\u001e42[\"y\"]", "b" + Convert.ToBase64String(Encoding.UTF8.GetBytes("bytes")),
    ];

    private static readonly string[] s_tokens =
    [
        "{\"_placeholder\":true,\"num\":", "{\"_placeholder\":true,\"num\":99}", "{\"_placeholder\":true,\"num\":-1}",
        "{\"_placeholder\":true}", "{\"_placeholder\":\"yes\",\"num\":0}", "99999999999999999999999999", "-9223372036854775809",
        "1e999", "-0", "NaN", "\u001e", "/", ",", "-", "[", "]", "{", "}", "\"", "\\", "\\u0000", "\\ud800", "null", "[]", "{}",
        "\"connect\"", "\"disconnect\"", "\"__proto__\"", "4294967296-", "1000000-", "b", "====", "\u00ff", "4", "45", "46",
    ];

    public static byte[] Mutate(Random random, byte[] input)
    {
        var data = new List<byte>(input);
        var rounds = 1 + random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            switch (random.Next(9))
            {
                case 0 when data.Count > 0:
                    data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data.Insert(random.Next(data.Count + 1), (byte)random.Next(256));
                    break;
                case 2 when data.Count > 0:
                    var start = random.Next(data.Count);
                    data.RemoveRange(start, random.Next(Math.Min(8, data.Count - start) + 1));
                    break;
                case 3:
                    data.InsertRange(random.Next(data.Count + 1), Encoding.UTF8.GetBytes(s_tokens[random.Next(s_tokens.Length)]));
                    break;
                case 4 when data.Count > 0:
                    var from = random.Next(data.Count);
                    var length = random.Next(Math.Min(16, data.Count - from) + 1);
                    data.InsertRange(random.Next(data.Count + 1), data.GetRange(from, length));
                    break;
                case 5:
                    // Deep nesting: a stack-depth attack on the JSON reader.
                    var depth = random.Next(2) == 0 ? 70 : 2000;
                    data.InsertRange(random.Next(data.Count + 1), Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', random.Next(2) * depth)));
                    break;
                case 6:
                    data.InsertRange(random.Next(data.Count + 1), Encoding.ASCII.GetBytes(random.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) + "99999"));
                    break;
                case 7 when data.Count > 1:
                    data.RemoveRange(random.Next(data.Count), 1);
                    break;
                default:
                    data.Add((byte)"0123456789[]{}\",-/\u001eb"[random.Next(20)]);
                    break;
            }
        }

        return [.. data];
    }

    /// <summary>A case: a mutated seed, sometimes pure random bytes.</summary>
    public static byte[] Next(Random random)
    {
        if (random.Next(10) == 0)
        {
            var bytes = new byte[random.Next(64)];
            random.NextBytes(bytes);
            return bytes;
        }

        return Mutate(random, Encoding.UTF8.GetBytes(TextSeeds[random.Next(TextSeeds.Length)]));
    }

    /// <summary>How many cases a test runs: HERALD_FUZZ_CASES when set (the long run), else the CI default.</summary>
    public static int Cases(int ciDefault)
        => int.TryParse(Environment.GetEnvironmentVariable("HERALD_FUZZ_CASES"), out var n) && n > 0 ? n : ciDefault;

    /// <summary>The fixed CI seed, then one random seed per run (printed, and replayable with HERALD_FUZZ_SEED).</summary>
    public static int[] Seeds()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("HERALD_FUZZ_SEED"), out var forced))
        {
            return [forced];
        }

        return [20261122, Random.Shared.Next()];
    }
}
