using System.Text;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Server.Tests;

public class HubKeysTests
{
    private static HttpRequest Request(string header, string value)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[header] = value;
        return context.Request;
    }

    [Fact]
    public void Without_configured_credentials_a_random_key_is_generated_and_accepted()
    {
        var a = HubKeys.Create(new HubOptions(), NullLogger.Instance);
        var b = HubKeys.Create(new HubOptions(), NullLogger.Instance);
        Assert.NotNull(a.GeneratedKey);
        Assert.True(a.GeneratedKey!.Length >= 32);
        Assert.NotEqual(a.GeneratedKey, b.GeneratedKey);
        Assert.True(a.IsAuthorized(Request("X-Herald-Key", a.GeneratedKey), allowBasic: false));
        Assert.False(a.IsAuthorized(Request("X-Herald-Key", b.GeneratedKey!), allowBasic: false));
    }

    [Fact]
    public void Basic_auth_is_accepted_only_where_allowed_and_only_with_the_right_password()
    {
        var options = new HubOptions { Admin = { Username = "admin", Password = "correct-horse-battery" } };
        var keys = HubKeys.Create(options, NullLogger.Instance);
        Assert.Null(keys.GeneratedKey);
        static string Basic(string s) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        Assert.True(keys.IsAuthorized(Request("Authorization", Basic("admin:correct-horse-battery")), allowBasic: true));
        Assert.False(keys.IsAuthorized(Request("Authorization", Basic("admin:correct-horse-battery")), allowBasic: false));
        Assert.False(keys.IsAuthorized(Request("Authorization", Basic("admin:correct-horse-batter")), allowBasic: true));
        Assert.False(keys.IsAuthorized(Request("Authorization", "Basic not-base64!"), allowBasic: true));
        Assert.False(keys.IsAuthorized(Request("Authorization", "Basic " + new string('A', 4000)), allowBasic: true));
    }

    [Fact]
    public void Every_configured_key_works_and_nothing_else()
    {
        var keys = HubKeys.Create(new HubOptions { ApiKeys = ["first-key-0123456789", "second-key-0123456789"] }, NullLogger.Instance);
        Assert.True(keys.IsAuthorized(Request("Authorization", "Bearer first-key-0123456789"), allowBasic: false));
        Assert.True(keys.IsAuthorized(Request("X-Herald-Key", "second-key-0123456789"), allowBasic: false));
        Assert.False(keys.IsAuthorized(Request("Authorization", "Bearer first-key-012345678"), allowBasic: false));
        Assert.False(keys.IsAuthorized(Request("Authorization", "Bearer "), allowBasic: false));
        Assert.False(keys.IsAuthorized(new DefaultHttpContext().Request, allowBasic: true));
    }
}
