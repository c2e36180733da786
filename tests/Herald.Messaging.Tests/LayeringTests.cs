using System.Reflection;

namespace Herald.Messaging.Tests;

/// <summary>DESIGN.md's one-way rule: Protocol and Messaging never reference ASP.NET Core or Redis; Redis only Messaging and Protocol.</summary>
public sealed class LayeringTests
{
    private static string[] HeraldAndAspNetReferences(Assembly assembly)
        => [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Herald.", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).Order()];

    [Fact]
    public void Protocol_ReferencesNoOtherLayer()
        => Assert.Empty(HeraldAndAspNetReferences(typeof(Herald.Protocol.Cluster.ClusterEnvelope).Assembly));

    [Fact]
    public void Messaging_ReferencesOnlyProtocol()
        => Assert.Subset(new HashSet<string> { "Herald.Protocol" }, HeraldAndAspNetReferences(typeof(IMessageBus).Assembly).ToHashSet());

    [Fact]
    public void Redis_ReferencesOnlyMessagingAndProtocol()
        => Assert.Subset(new HashSet<string> { "Herald.Messaging", "Herald.Protocol" }, HeraldAndAspNetReferences(typeof(Herald.Redis.RedisMessageBus).Assembly).ToHashSet());
}
