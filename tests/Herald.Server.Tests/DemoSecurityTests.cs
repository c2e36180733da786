using System.Net;
using Herald.Sessions;
using Herald.SocketIO;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests;

/// <summary>
/// Security audit (issue 13), demos: off unless asked for, and even on, a demo client never acts as another user,
/// reaches an application's channels, a reserved room (<c>herald:*</c>) or another socket's id room.
/// </summary>
public class DemoSecurityTests
{
    [Fact]
    public async Task A_default_hub_answers_no_demo_event()
    {
        await using var hub = await HubInstance.StartAsync();
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var sid = await client.ConnectAsync().DefaultTimeout();

        await client.SendAsync("""21["demo:login","carol"]""").DefaultTimeout();
        await client.SendAsync("""22["demo:join","board"]""").DefaultTimeout();
        await client.SendAsync("""23["demo:say","board","hi"]""").DefaultTimeout();
        // A packet that is always answered, after the demo events: the answer must be the next thing received.
        await client.SendAsync("0/chat,").DefaultTimeout();
        Assert.StartsWith("0/chat,", await client.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);
        await client.SendAsync("""2/chat,4["join","lobby"]""").DefaultTimeout();
        await client.SendAsync("0/nope,").DefaultTimeout(); // refused namespace: a CONNECT_ERROR, always answered
        Assert.StartsWith("4/nope,", await client.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);

        var session = hub.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[sid].GetHeraldSession()!;
        Assert.Null(await session.GetUserIdAsync().DefaultTimeout());
        Assert.Empty(await session.Channels.ListAsync().DefaultTimeout());
    }

    [Fact]
    public async Task With_the_demo_off_its_pages_are_not_served_and_the_dashboard_is()
    {
        await using var hub = await HubInstance.StartAsync();
        foreach (var path in new[] { "/", "/index.html", "/typed.html", "/INDEX.HTML", "/Typed.html" })
        {
            using var page = await hub.Http.GetAsync(path).DefaultTimeout();
            Assert.True(page.StatusCode == HttpStatusCode.NotFound, $"{path}: {page.StatusCode}");
        }

        using var dashboard = await hub.Http.GetAsync("/admin/").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("<html", await dashboard.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task With_the_dashboard_off_its_pages_are_not_served()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Admin:Enabled=false", "--Herald:Demo:Enabled=true");
        foreach (var path in new[] { "/admin/", "/admin/index.html", "/admin/admin.js", "/Admin/admin.css" })
        {
            using var page = await hub.Http.GetAsync(path).DefaultTimeout();
            Assert.True(page.StatusCode == HttpStatusCode.NotFound, $"{path}: {page.StatusCode}");
        }

        using var demo = await hub.Http.GetAsync("/").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, demo.StatusCode);
    }

    [Fact]
    public async Task With_the_demo_on_its_pages_are_served()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Demo:Enabled=true");
        foreach (var path in new[] { "/", "/typed.html" })
        {
            using var page = await hub.Http.GetAsync(path).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task The_development_environment_turns_the_demo_on()
    {
        // appsettings.Development.json: what `dotnet run --project src/Herald.Server` uses (launchSettings.json).
        string[] args = ["--urls", "http://127.0.0.1:0", "--Herald:ApiKeys:0=" + HubInstance.Key];
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(new Microsoft.AspNetCore.Builder.WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Development",
        });
        Herald.Server.Hosting.HubServiceCollectionExtensions.AddHeraldHub(builder);
        Assert.True(Herald.Server.Hosting.HubServiceCollectionExtensions.Read(builder.Configuration).Demo.Enabled);
        Assert.False(Herald.Server.Hosting.HubServiceCollectionExtensions.Read(HubInstance.CreateBuilder().Configuration).Demo.Enabled); // Production
    }

    [Fact]
    public void Dotnet_run_starts_the_hub_in_the_development_environment()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        using var launch = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "src/Herald.Server/Properties/launchSettings.json")));
        var profile = launch.RootElement.GetProperty("profiles").EnumerateObject().First().Value; // `dotnet run` uses the first
        Assert.Equal("Development", profile.GetProperty("environmentVariables").GetProperty("ASPNETCORE_ENVIRONMENT").GetString());
    }

    [Fact]
    public async Task A_demo_client_cannot_join_another_sockets_id_room_nor_a_reserved_room()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Demo:Enabled=true");
        await using var victim = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var victimSid = await victim.ConnectAsync("/chat").DefaultTimeout();
        await using var attacker = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var attackerSid = await attacker.ConnectAsync("/chat").DefaultTimeout();

        await attacker.SendAsync($$"""2/chat,1["join","{{victimSid}}"]""").DefaultTimeout();
        await ReceiveAck(attacker, "3/chat,1");
        await attacker.SendAsync("""2/chat,2["join","herald:ch:board"]""").DefaultTimeout();
        await ReceiveAck(attacker, "3/chat,2");

        var chat = hub.Services.GetRequiredService<SocketIOServer>().Of("/chat");
        var rooms = chat.Sockets[attackerSid].Rooms;
        Assert.DoesNotContain(victimSid, rooms);
        Assert.DoesNotContain(rooms, r => r.StartsWith("herald:", StringComparison.Ordinal));

        // What the server sends to the victim's id, or to a channel room, never reaches the attacker.
        chat.To(victimSid).Emit("private", "for the victim only");
        chat.To("herald:ch:board").Emit("private", "for the board channel only");
        chat.To(attackerSid).Emit("marker");
        Assert.Equal("""2/chat,["marker"]""", await attacker.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2/chat,["private","for the victim only"]""", await victim.ReceiveTextAsync().DefaultTimeout());
    }

    [Fact]
    public async Task A_demo_client_cannot_sign_in_as_an_application_user_nor_reach_its_channels()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Demo:Enabled=true");
        await using var attacker = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var attackerSid = await attacker.ConnectAsync().DefaultTimeout();

        await attacker.SendAsync("""21["demo:login","carol"]""").DefaultTimeout();
        var login = await attacker.ReceiveTextAsync().DefaultTimeout();
        Assert.StartsWith("31[", login, StringComparison.Ordinal);
        Assert.DoesNotContain("\"carol\"", login, StringComparison.Ordinal); // signed in as a demo user, not as carol
        await attacker.SendAsync("""22["demo:join","payroll"]""").DefaultTimeout();
        Assert.StartsWith("32[", await attacker.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);
        await attacker.SendAsync("""23["demo:join","herald:u:carol"]""").DefaultTimeout();
        Assert.StartsWith("33[", await attacker.ReceiveTextAsync().DefaultTimeout(), StringComparison.Ordinal);

        // The application's messages to user carol and channel payroll do not reach the demo client.
        await PostOk(hub, "/api/user", """{"users":["carol"],"event":"secret","args":["carol's mail"]}""");
        await PostOk(hub, "/api/channel", """{"channels":["payroll"],"event":"secret","args":["salaries"]}""");
        await PostOk(hub, "/api/emit", $$"""{"event":"marker","rooms":["{{attackerSid}}"]}""");
        Assert.Equal("""2["marker"]""", await attacker.ReceiveTextAsync().DefaultTimeout());

        var session = hub.Services.GetRequiredService<SocketIOServer>().Sockets.Sockets[attackerSid].GetHeraldSession()!;
        Assert.NotEqual("carol", await session.GetUserIdAsync().DefaultTimeout());
        Assert.DoesNotContain("payroll", await session.Channels.ListAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Two_demo_sessions_cannot_sign_in_as_the_same_demo_user()
    {
        await using var hub = await HubInstance.StartAsync("--Herald:Demo:Enabled=true");
        await using var fred = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await fred.ConnectAsync().DefaultTimeout();
        await using var mallory = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        var mallorySid = await mallory.ConnectAsync().DefaultTimeout();

        await fred.SendAsync("""21["demo:login","fred"]""").DefaultTimeout();
        var fredUser = await fred.ReceiveTextAsync().DefaultTimeout();
        Assert.Matches("^31\\[\"demo\\.fred\"\\]$", fredUser);
        await mallory.SendAsync("""21["demo:login","fred"]""").DefaultTimeout();
        Assert.Equal("31[null]", await mallory.ReceiveTextAsync().DefaultTimeout()); // taken: not signed in

        await PostOk(hub, "/api/user", """{"users":["demo.fred"],"event":"offer","args":["for fred"]}""");
        await PostOk(hub, "/api/emit", $$"""{"event":"marker","rooms":["{{mallorySid}}"]}""");
        Assert.Equal("""2["marker"]""", await mallory.ReceiveTextAsync().DefaultTimeout());
        Assert.Equal("""2["offer","for fred"]""", await fred.ReceiveTextAsync().DefaultTimeout());
    }

    /// <summary>Skips the room's "system" lines (joined/left) up to the acknowledgement.</summary>
    private static async Task ReceiveAck(SocketIOTestClient client, string prefix)
    {
        while (true)
        {
            var packet = await client.ReceiveTextAsync().DefaultTimeout();
            if (packet.StartsWith(prefix, StringComparison.Ordinal))
            {
                return;
            }

            Assert.StartsWith("""2/chat,["system",""", packet, StringComparison.Ordinal);
        }
    }

    private static async Task PostOk(HubInstance hub, string path, string json)
    {
        using var response = await hub.Http.SendAsync(hub.Post(path, json)).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
