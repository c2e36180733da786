using System.Net;
using System.Text;
using Herald.Testing;

namespace Herald.Server.Tests;

/// <summary>
/// Security audit (issue 13), cost out of proportion to input: every list in a publish API request is capped (400
/// naming the setting past it), and the work of a request is linear in its lists.
/// </summary>
public class ApiCostTests
{
    private static string Names(string prefix, int count)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < count; i++)
        {
            sb.Append(i == 0 ? "\"" : ",\"").Append(prefix).Append(i).Append('"');
        }

        return sb.Append(']').ToString();
    }

    [Theory]
    [InlineData("/api/channel", "channels", "Herald:Limits:MaxChannelsPerPublish", 101)]
    [InlineData("/api/user", "users", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/emit", "rooms", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/emit", "except", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/sse", "to", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/sse-close", "to", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/disconnect", "sockets", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/sockets-join", "rooms", "Herald:Limits:MaxListItems", 1001)]
    [InlineData("/api/emit", "args", "Herald:Limits:MaxListItems", 1001)]
    public async Task A_list_over_its_cap_is_refused_with_400_naming_the_setting(string path, string field, string setting, int count)
    {
        await using var hub = await HubInstance.StartAsync();
        var others = field switch
        {
            "channels" or "users" => """ "event":"x", """,
            "rooms" when path == "/api/sockets-join" => """ "sockets":["a"], """,
            "rooms" or "except" or "args" => """ "event":"x", """,
            _ => "",
        };
        using var response = await hub.Http.SendAsync(hub.Post(path, "{" + others + "\"" + field + "\":" + Names("n", count) + "}")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains(setting, error, StringComparison.Ordinal);
        Assert.Contains("'" + field + "'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Four_thousand_channels_at_the_old_cost_now_answer_400_at_once()
    {
        // Before: 4,000 channels took ~37 s of CPU (one envelope per channel, each excluding all the channels before).
        await using var hub = await HubInstance.StartAsync();
        using var response = await hub.Http.SendAsync(hub.Post("/api/channel", "{\"event\":\"x\",\"channels\":" + Names("c", 4000) + "}")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_emit_to_the_most_rooms_allowed_reaches_its_socket()
    {
        // 10,000 is the most a cluster envelope carries (ClusterEnvelopeLimits.MaxRooms), so the most the setting allows.
        await using var hub = await HubInstance.StartAsync("--Herald:Limits:MaxListItems=10000");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();
        var rooms = Names("room-", 9_999).Insert(1, "\"" + sid + "\",");
        using var response = await hub.Http.SendAsync(hub.Post("/api/emit", "{\"event\":\"wide\",\"rooms\":" + rooms + ",\"except\":" + Names("other-", 10_000) + "}")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""2["wide"]""", await client.ReceiveTextAsync().DefaultTimeout());
    }

    [Theory]
    [InlineData("Herald:Limits:MaxListItems", 10_001)]
    [InlineData("Herald:Limits:MaxChannelsPerPublish", 1_001)]
    public void The_list_caps_have_a_ceiling(string setting, int value)
    {
        var builder = HubInstance.CreateBuilder($"--{setting}={value}");
        var e = Assert.Throws<Herald.Server.Hosting.HubConfigurationException>(() => Herald.Server.Hosting.HubServiceCollectionExtensions.AddHeraldHub(builder));
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
    }
}
