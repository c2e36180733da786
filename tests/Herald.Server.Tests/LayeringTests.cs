using System.Reflection;
using System.Runtime.CompilerServices;

namespace Herald.Server.Tests;

/// <summary>
/// The whole assembly graph in one place (DESIGN.md's one-way rule): each product assembly may reference only the
/// Herald assemblies below it, the transport-free layers (Protocol, Messaging, Redis) never reference ASP.NET Core,
/// and the only friend assembly (<see cref="InternalsVisibleToAttribute"/>) of a product assembly is its own test
/// project: another product assembly gets what it needs through public seams. The hub references every product
/// assembly, so all of them are loaded from this test's output.
/// </summary>
public sealed class LayeringTests
{
    // Product assembly → the Herald assemblies it may reference (directly or not). Adding an assembly or an edge is a
    // design change: make it here, in docs/architecture.md, and in the project files, together.
    private static readonly Dictionary<string, string[]> s_allowed = new(StringComparer.Ordinal)
    {
        ["Herald.Protocol"] = [],
        ["Herald.Messaging"] = ["Herald.Protocol"],
        ["Herald.EngineIO"] = ["Herald.Protocol"],
        ["Herald.Redis"] = ["Herald.Messaging", "Herald.Protocol"],
        ["Herald.PeerLinks"] = ["Herald.Messaging", "Herald.Protocol"],
        ["Herald.SocketIO"] = ["Herald.EngineIO", "Herald.Messaging", "Herald.Protocol"],
        ["Herald.Sse"] = ["Herald.Messaging", "Herald.Protocol"],
        ["Herald.Sse.Redis"] = ["Herald.Sse", "Herald.Redis", "Herald.Messaging", "Herald.Protocol"],
        ["Herald.Sessions"] = ["Herald.SocketIO", "Herald.Sse", "Herald.EngineIO", "Herald.Messaging", "Herald.Protocol"],
        ["Herald.Sessions.Redis"] = ["Herald.Sessions", "Herald.Redis", "Herald.SocketIO", "Herald.Sse", "Herald.EngineIO", "Herald.Messaging", "Herald.Protocol"],
        ["Herald.Identity"] = ["Herald.Sessions", "Herald.SocketIO", "Herald.Sse", "Herald.EngineIO", "Herald.Messaging", "Herald.Protocol"],
        ["Herald.Server"] =
        [
            "Herald.Identity", "Herald.Sessions.Redis", "Herald.Sessions", "Herald.Sse.Redis", "Herald.Sse", "Herald.SocketIO",
            "Herald.PeerLinks", "Herald.Redis", "Herald.EngineIO", "Herald.Messaging", "Herald.Protocol",
        ],
    };

    private static readonly HashSet<string> s_withoutAspNetCore = ["Herald.Protocol", "Herald.Messaging", "Herald.Redis"];

    public static TheoryData<string> ProductAssemblies => [.. s_allowed.Keys];

    private static Assembly Load(string name) => Assembly.Load(new AssemblyName(name));

    [Theory]
    [MemberData(nameof(ProductAssemblies))]
    public void EachAssemblyReferencesOnlyTheLayersBelowIt(string name)
    {
        var references = Load(name).GetReferencedAssemblies().Select(a => a.Name!).ToList();
        var herald = references.Where(n => n.StartsWith("Herald.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.All(herald, n => Assert.True(s_allowed.ContainsKey(n), $"{name} references {n}, which is not in the layering table."));
        Assert.Empty(herald.Except(s_allowed[name]));
        if (s_withoutAspNetCore.Contains(name))
        {
            Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(ProductAssemblies))]
    public void EachAssemblyOpensItsInternalsToItsOwnTestsOnly(string name)
    {
        var friends = Load(name).GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName.Split(',')[0].Trim());
        Assert.All(friends, friend => Assert.Equal(name + ".Tests", friend));
    }

    [Fact]
    public void TheTableCoversEveryHeraldAssemblyTheHubLoads()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(["Herald.Server"]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name))
            {
                continue;
            }

            foreach (var reference in Load(name).GetReferencedAssemblies())
            {
                if (reference.Name!.StartsWith("Herald.", StringComparison.Ordinal))
                {
                    pending.Push(reference.Name);
                }
            }
        }

        Assert.Equal(s_allowed.Keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }
}
