using Herald.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Herald.Testing;

namespace Herald.Server.Tests;

/// <summary>The hub composed exactly as Program.cs does, on real Kestrel at 127.0.0.1:0.</summary>
public sealed class HubInstance : IAsyncDisposable
{
    public const string Key = "test-api-key-0123456789";

    private HubInstance(WebApplication app, Uri uri)
    {
        App = app;
        Uri = uri;
        Http = new HttpClient { BaseAddress = uri, Timeout = TaskTimeoutExtensions.DefaultTimeoutSpan };
    }

    public WebApplication App { get; }

    public Uri Uri { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    public static WebApplicationBuilder CreateBuilder(params string[] settings)
    {
        string[] args = ["--urls", "http://127.0.0.1:0", "--Herald:ApiKeys:0=" + Key, "--Herald:Demo:ClockInterval=00:10:00", .. settings];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        return builder;
    }

    public static Task<HubInstance> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <summary>Starts the hub with every log entry (any level, any category) kept in <paramref name="logs"/>.</summary>
    public static async Task<HubInstance> StartAsync(TestLogSink? logs, params string[] settings)
    {
        var builder = CreateBuilder(settings);
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(logs);
        }

        builder.AddHeraldHub();
        var app = builder.Build();
        app.MapHeraldHub();
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HubInstance(app, new Uri(address));
    }

    public HttpRequestMessage Post(string path, string json, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Herald-Key", key);
        }

        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync().DefaultTimeout();
        await App.DisposeAsync();
    }
}
