using Herald.Server.Hosting;
using Herald.SocketIO;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Server.Tests;

/// <summary>The per-connection CONNECT limits are set from the hub's configuration (<c>Herald:SocketIO:*</c>, bound raw).</summary>
public class SocketIOLimitsConfigurationTests
{
    [Fact]
    public async Task ConnectLimits_BindFromHeraldSocketIO_AndDefaultOtherwise()
    {
        var builder = HubInstance.CreateBuilder(
            "--Herald:SocketIO:ConnectRateLimit:PermitsPerSecond=2.5",
            "--Herald:SocketIO:ConnectRateLimit:Burst=7",
            "--Herald:SocketIO:MaxNamespacesPerConnection=12");
        builder.AddHeraldHub();
        await using (var app = builder.Build())
        {
            var options = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;
            Assert.Equal(2.5, options.ConnectRateLimit!.PermitsPerSecond);
            Assert.Equal(7, options.ConnectRateLimit.Burst);
            Assert.Equal(12, options.MaxNamespacesPerConnection);
        }

        var defaults = HubInstance.CreateBuilder();
        defaults.AddHeraldHub();
        await using var plain = defaults.Build();
        var o = plain.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;
        Assert.Equal((10.0, 100, 100), (o.ConnectRateLimit!.PermitsPerSecond, o.ConnectRateLimit.Burst, o.MaxNamespacesPerConnection));
    }
}
