using System.Collections.Concurrent;
using System.Net;
using Herald.Testing;
using Herald.Testing.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Sse.Tests;

/// <summary>A real Kestrel on 127.0.0.1:0 serving <c>/events</c>, an HttpClient, and the captured logs.</summary>
internal sealed class SseTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _http2;

    private SseTestHost(WebApplication app, SseServer server, string baseUrl, TestLogSink logs, bool http2)
    {
        _app = app;
        _http2 = http2;
        Server = server;
        BaseUrl = baseUrl;
        Logs = logs;
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero });
    }

    public SseServer Server { get; }

    public IServiceProvider Services => _app.Services;

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public TestLogSink Logs { get; }

    public bool AllowErrors { get; set; }

    /// <summary>The resume key every test host shares, like the nodes of a correctly configured cluster.</summary>
    public const string SharedResumeKey = "test-resume-key-0123456789abcdefghijklmnopqrstuvwxyz";

    public static async Task<SseTestHost> StartAsync(Action<SseOptions>? configure = null, HttpProtocols protocols = HttpProtocols.Http1, Action<IServiceCollection>? services = null)
    {
        var logs = new TestLogSink();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = protocols));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        services?.Invoke(builder.Services);
        builder.Services.AddServerSentEvents(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMinutes(10);
            o.ResumeKey = SharedResumeKey;
            configure?.Invoke(o);
        });
        var app = builder.Build();
        var server = app.MapServerSentEvents("/events");
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SseTestHost(app, server, address, logs, protocols == HttpProtocols.Http2);
    }

    public Task<SseTestClient> ConnectAsync(string query = "", string? lastEventId = null, Action<HttpRequestMessage>? configure = null)
        => SseTestClient.ConnectAsync(Http, BaseUrl + "/events" + query, lastEventId, request =>
        {
            if (_http2)
            {
                request.Version = HttpVersion.Version20;
                request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            }

            configure?.Invoke(request);
        });

    /// <summary>Connects and reads the <c>herald:open</c> event; returns the client and its id.</summary>
    public async Task<(SseTestClient Client, string Id)> ConnectOpenAsync(string query = "", string? lastEventId = null)
    {
        var client = await ConnectAsync(query, lastEventId).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        var open = await client.ReadEventAsync().DefaultTimeout();
        Assert.Equal("herald:open", open.Type);
        return (client, OpenPayload.Parse(open.Data).ClientId);
    }

    /// <summary>A task completing when the server sees <paramref name="clientId"/>'s connection end. Subscribe before causing it.</summary>
    public Task<SseDisconnectReason> WhenDisconnected(string clientId)
    {
        var tcs = new TaskCompletionSource<SseDisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<SseClient, SseDisconnectReason>? handler = null;
        handler = (client, reason) =>
        {
            if (client.Id == clientId)
            {
                Server.ClientDisconnected -= handler;
                tcs.TrySetResult(reason);
            }
        };
        Server.ClientDisconnected += handler;
        return tcs.Task;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        if (!AllowErrors)
        {
            Assert.Empty(Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => e.Message));
        }
    }
}

internal sealed record OpenPayload(string ClientId, bool Resumed)
{
    public static OpenPayload Parse(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return new OpenPayload(doc.RootElement.GetProperty("clientId").GetString()!, doc.RootElement.GetProperty("resumed").GetBoolean());
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>Captures logs so tests can assert on warnings and fail on unexpected errors.</summary>
internal sealed class TestLogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => sink._entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
