using System.Net;
using System.Text.Json;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Identity.Tests;

/// <summary>An identity provider's key endpoint on real Kestrel: <c>GET /jwks</c> serves the current public keys; the test rotates them.</summary>
internal sealed class JwksServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile SecurityKey[] _keys = [];
    private int _fetches;

    private JwksServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksServer> StartAsync(params SecurityKey[] keys)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new JwksServer(app) { _keys = keys };
        app.MapGet("/jwks", (HttpContext context) =>
        {
            Interlocked.Increment(ref server._fetches);
            var set = new { keys = server._keys.Select(ToPublicJwk).ToArray() };
            return Results.Text(JsonSerializer.Serialize(set), "application/json");
        });
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address + "/jwks");
        return server;
    }

    public void Publish(params SecurityKey[] keys) => _keys = keys;

    private static Dictionary<string, object> ToPublicJwk(SecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
        var result = new Dictionary<string, object> { ["kty"] = jwk.Kty, ["kid"] = key.KeyId, ["use"] = "sig" };
        if (jwk.Kty == "RSA")
        {
            result["n"] = jwk.N;
            result["e"] = jwk.E;
        }
        else
        {
            result["crv"] = jwk.Crv;
            result["x"] = jwk.X;
            result["y"] = jwk.Y;
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }
}
