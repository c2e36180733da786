using Herald.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Herald.Server.Tests;

public class ConfigurationTests
{
    private static string[] Failures(Action<HubOptions> change)
    {
        var options = new HubOptions();
        change(options);
        var result = new HubOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures] : [];
    }

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(Failures(_ => { }));
        Assert.Equal(["/", "/chat"], new HubOptions().EffectiveNamespaces);
    }

    [Theory]
    [InlineData("Herald:NodeName")]
    [InlineData("Herald:Redis:ConnectionString")]
    [InlineData("Herald:Redis:ChannelPrefix")]
    [InlineData("Herald:Namespaces:1")]
    [InlineData("Herald:Cors:Origins:0")]
    [InlineData("Herald:ApiKeys:0")]
    [InlineData("Herald:ChannelKey")]
    [InlineData("Herald:PeerLinks:0:Url")]
    [InlineData("Herald:Limits:MaxBatchCommands")]
    [InlineData("Herald:Admin:Password")]
    public void Each_bad_setting_is_named(string setting)
    {
        var failures = Failures(o =>
        {
            switch (setting)
            {
                case "Herald:NodeName": o.NodeName = "web server 1"; break;
                case "Herald:Redis:ConnectionString": o.Redis.ConnectionString = "localhost:6379,bogus=1"; break;
                case "Herald:Redis:ChannelPrefix": o.Redis.ChannelPrefix = "app*"; break;
                case "Herald:Namespaces:1": o.Namespaces = ["/", "orders"]; break;
                case "Herald:Cors:Origins:0": o.Cors.Origins = ["https://app.example.com/path"]; break;
                case "Herald:ApiKeys:0": o.ApiKeys = ["short"]; break;
                case "Herald:ChannelKey": o.PeerLinks = [new HubPeerLinkOptions { Name = "web-2", Url = "ws://localhost:5002/herald/channel" }]; break;
                case "Herald:PeerLinks:0:Url": o.ChannelKey = "a-long-enough-channel-key"; o.PeerLinks = [new HubPeerLinkOptions { Name = "web-2", Url = "localhost:5002" }]; break;
                case "Herald:Limits:MaxBatchCommands": o.Limits.MaxBatchCommands = 0; break;
                case "Herald:Admin:Password": o.Admin.Username = "admin"; o.Admin.Password = "short"; break;
            }
        });
        var failure = Assert.Single(failures);
        Assert.StartsWith(setting + ": ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_that_does_not_convert_is_named()
    {
        var config = new ConfigurationBuilder().AddCommandLine(["--Herald:Limits:MaxPayloadBytes=lots"]).Build();
        var e = Assert.Throws<HubConfigurationException>(() => HubServiceCollectionExtensions.Read(config));
        Assert.Contains("Herald:Limits:MaxPayloadBytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_style_keys_bind_lists_and_sections()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Herald:NodeName"] = "web-1",
            ["Herald:Namespaces:0"] = "/orders",
            ["Herald:Namespaces:1"] = "/tenant-*",
            ["Herald:PeerLinks:0:Name"] = "web-2",
            ["Herald:PeerLinks:0:Url"] = "ws://127.0.0.1:5002/herald/channel",
            ["Herald:ChannelKey"] = "a-long-enough-channel-key",
            ["Herald:Redis:ConnectionString"] = "127.0.0.1:6390",
        }).Build();
        var hub = HubServiceCollectionExtensions.Read(config);
        Assert.Equal("web-1", hub.NodeName);
        Assert.Equal(["/orders", "/tenant-*"], hub.EffectiveNamespaces);
        Assert.Equal("web-2", Assert.Single(hub.PeerLinks).Name);
        Assert.Equal("127.0.0.1:6390", hub.Redis.ConnectionString);
    }

    [Fact]
    public void The_hub_refuses_to_start_with_an_invalid_setting_and_names_it()
    {
        var builder = HubInstance.CreateBuilder("--Herald:Redis:ConnectionString=localhost:6379,sll=true", "--Herald:NodeName=bad name");
        var e = Assert.Throws<HubConfigurationException>(() => builder.AddHeraldHub());
        Assert.Contains("Herald:Redis:ConnectionString: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:NodeName: ", e.Message, StringComparison.Ordinal);
    }
}
