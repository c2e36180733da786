using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Bench.Shared;

/// <summary>
/// What every .NET bench server shares (linked into each server project): the listen address from
/// <c>--port N</c> or <c>PORT</c>, quiet logging (console logging at Information costs measurable CPU
/// under load), and the two endpoints the load tool probes:
/// <c>GET /bench/ready</c> → 200 "ok" once the app listens, and
/// <c>GET /bench/gc</c> → <c>{"heap":bytes,"rss":bytes}</c> after a full blocking collection, so the
/// tool can report managed heap per connection next to the RSS it reads from /proc.
/// </summary>
internal static class BenchServerHost
{
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.WebHost.UseUrls($"http://127.0.0.1:{GetPort(args).ToString(CultureInfo.InvariantCulture)}");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        return builder;
    }

    public static void MapBenchEndpoints(WebApplication app)
    {
        app.MapGet("/bench/ready", () => Results.Text("ok"));
        app.MapGet("/bench/gc", () =>
        {
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            long rss = Environment.WorkingSet;
            return Results.Text(
                string.Create(CultureInfo.InvariantCulture, $"{{\"heap\":{heap},\"rss\":{rss}}}"),
                "application/json");
        });
    }

    private static int GetPort(string[] args)
    {
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--port")
            {
                return int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        return int.TryParse(Environment.GetEnvironmentVariable("PORT"), CultureInfo.InvariantCulture, out int port)
            ? port
            : 5100;
    }
}
