// An application backend for a standalone Herald hub (docs/identity.md): it signs connection tokens for its signed-in
// users and serves the hub's proxy endpoints. Sign-in is a toy (GET /login?user=alice sets a cookie); a real app
// uses its own authentication and issues tokens from it.
//
//   dotnet run --project samples/Identity -- --urls http://localhost:5100 --Hub:Secret=<the hub's Herald:Identity:HmacSecret>
//   dotnet run --project src/Herald.Server -- --Herald:Identity:HmacSecret=<same> --Herald:Identity:Required=true \
//       --Herald:Cors:Origins:0=http://localhost:5100
//   open http://localhost:5100/login?user=alice&returnUrl=/%3Fhub%3Dhttp://localhost:5000
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

var builder = WebApplication.CreateBuilder(args);
var secret = builder.Configuration["Hub:Secret"] ?? throw new InvalidOperationException("Set Hub:Secret (the hub's Herald:Identity:HmacSecret).");
var proxyKey = builder.Configuration["Hub:ProxyKey"]; // the hub sends it as X-Hub-Key (Herald:Identity:Proxy:Headers:X-Hub-Key)
var signingKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret));
var tokens = new JsonWebTokenHandler();
var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();

static string? SignedInUser(HttpContext context) => context.Request.Cookies["sample.user"] is { Length: > 0 and <= 64 } user ? user : null;

string Sign(string user, IDictionary<string, object> claims, TimeSpan lifetime)
{
    claims["sub"] = user;
    return tokens.CreateToken(new SecurityTokenDescriptor
    {
        Claims = claims,
        Issuer = "sample-backend",
        Audience = "herald",
        Expires = DateTime.UtcNow.Add(lifetime),
        SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.HmacSha256),
    });
}

// The toy sign-in.
app.MapGet("/login", (HttpContext context, string user, string? returnUrl) =>
{
    context.Response.Cookies.Append("sample.user", user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax });
    return Results.Redirect(returnUrl is { } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) ? url : "/");
});

// A connection token for the signed-in user: sub = the user, channels = what the user may receive.
app.MapGet("/token", (HttpContext context) => SignedInUser(context) is { } user
    ? Results.Json(new { token = Sign(user, new Dictionary<string, object> { ["channels"] = new[] { "news" } }, TimeSpan.FromMinutes(10)) })
    : Results.Unauthorized());

// A channel token: lets the signed-in user's connection subscribe to one more channel.
app.MapGet("/channel-token", (HttpContext context, string channel) => SignedInUser(context) is { } user && channel.StartsWith("team-", StringComparison.Ordinal)
    ? Results.Json(new { token = Sign(user, new Dictionary<string, object> { ["channel"] = channel }, TimeSpan.FromMinutes(10)) })
    : Results.Forbid());

// The hub's proxy hooks (Herald:Identity:Proxy:*Url). Only the hub may call them.
var proxy = app.MapGroup("/herald-proxy").AddEndpointFilter(async (context, next) =>
    proxyKey is not null && context.HttpContext.Request.Headers["X-Hub-Key"] != proxyKey ? Results.Unauthorized() : await next(context));

proxy.MapPost("/connect", (JsonElement body) =>
{
    // The hub forwards the browser's cookies: the same sign-in as the app's own pages.
    var cookie = body.TryGetProperty("headers", out var h) && h.TryGetProperty("Cookie", out var c) ? c.GetString() ?? "" : "";
    var user = cookie.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("sample.user=", StringComparison.Ordinal))?["sample.user=".Length..];
    return user is { Length: > 0 }
        ? Results.Json(new { result = new { user, channels = new[] { "news" } } })
        : Results.Json(new { error = new { code = "not_signed_in", message = "Sign in first." } });
});

proxy.MapPost("/subscribe", (JsonElement body) =>
    body.TryGetProperty("channel", out var ch) && ch.GetString() is { } channel && channel.StartsWith("team-", StringComparison.Ordinal)
        && body.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String
        ? Results.Json(new { result = new { } })
        : Results.Json(new { error = new { code = "forbidden", message = "Only team-* channels, signed in." } }));

proxy.MapPost("/publish", (JsonElement body) =>
    body.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String
        ? Results.Json(new { result = new { data = new { from = u.GetString(), text = body.GetProperty("data").ToString() } } })
        : Results.Json(new { error = new { code = "forbidden", message = "Sign in to post." } }));

app.Run();
