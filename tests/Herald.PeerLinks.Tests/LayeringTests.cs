using System.Reflection;
using Herald.Messaging;

namespace Herald.PeerLinks.Tests;

/// <summary>The link client and session live in Messaging (no ASP.NET Core); only the endpoint assembly references ASP.NET Core.</summary>
public sealed class LayeringTests
{
    private static HashSet<string> References(Assembly assembly)
        => [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Herald.", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))];

    [Fact]
    public void Messaging_WithPeerLinks_StillReferencesNoAspNetCore()
        => Assert.Subset(new HashSet<string> { "Herald.Protocol" }, References(typeof(IMessageBus).Assembly));

    [Fact]
    public void PeerLinksEndpoint_ReferencesOnlyMessagingAmongHeraldAssemblies()
    {
        var references = References(typeof(Microsoft.AspNetCore.Builder.HeraldChannelEndpointRouteBuilderExtensions).Assembly);
        Assert.Equal(["Herald.Messaging"], references.Where(n => n.StartsWith("Herald.", StringComparison.Ordinal)).Order());
    }
}
