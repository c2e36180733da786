using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.EngineIO.Tests;

/// <summary>
/// Real Kestrel on 127.0.0.1:0 serving one <see cref="EngineIOServer"/> at /engine.io/ with a
/// <see cref="RecordingHandler"/>. Disposing it fails the test if an Error-level log was written.
/// </summary>
public sealed class EngineIOTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ErrorLogCollector _errors;

    private EngineIOTestHost(WebApplication app, EngineIOServer server, RecordingHandler handler, Uri baseUri, ErrorLogCollector errors)
    {
        _app = app;
        Server = server;
        Handler = handler;
        BaseUri = baseUri;
        _errors = errors;
    }

    public EngineIOServer Server { get; }

    public RecordingHandler Handler { get; }

    public Uri BaseUri { get; }

    /// <summary>Set when a test expects Error-level logs (a throwing handler).</summary>
    public bool AllowErrorLogs { get; set; }

    public static async Task<EngineIOTestHost> StartAsync(Action<EngineIOOptions>? configure = null, RecordingHandler? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var errors = new ErrorLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        var app = builder.Build();

        var options = new EngineIOOptions();
        configure?.Invoke(options);
        handler ??= new RecordingHandler();
        var server = new EngineIOServer(options, handler, app.Services.GetRequiredService<ILoggerFactory>());
        app.MapEngineIO(server);
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EngineIOTestHost(app, server, handler, new Uri(address), errors);
    }

    public EngineIOTestClient CreateClient() => EngineIOTestClient.Create(BaseUri);

    public Task<EngineIOTestClient> ConnectPollingAsync() => EngineIOTestClient.ConnectPollingAsync(BaseUri);

    public Task<EngineIOTestClient> ConnectWebSocketAsync() => EngineIOTestClient.ConnectWebSocketAsync(BaseUri);

    /// <summary>Waits until the registry holds <paramref name="count"/> sessions (sessions leave it when closed).</summary>
    public async Task WaitForSessionCountAsync(int count)
    {
        var deadline = DateTime.UtcNow + TaskTimeoutExtensions.DefaultTimeoutSpan;
        while (Server.SessionCount != count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"SessionCount stayed {Server.SessionCount}, expected {count}.");
            }

            await Handler.Changed.WaitAsync(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Waits until the session's GET is pending on the server (a polling session is writable only then).</summary>
    public async Task WaitForPendingPollAsync(string sid)
    {
        var connection = await Handler.WaitOpenedAsync(sid);
        await WaitUntilAsync(() => connection.IsWritable, "a pending poll");
    }

    /// <summary>Waits for a condition that no event announces, checking it every few milliseconds up to the default timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TaskTimeoutExtensions.DefaultTimeoutSpan;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        if (!AllowErrorLogs && !_errors.Errors.IsEmpty)
        {
            throw new InvalidOperationException("Unexpected error logs:\n" + string.Join("\n", _errors.Errors));
        }
    }
}

/// <summary>
/// Records what the Engine.IO layer hands up: opened connections, messages and close reasons; echoes
/// messages back when <see cref="Echo"/> is set.
/// </summary>
public sealed class RecordingHandler : IEngineConnectionHandler, IEngineConnectionListener
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _closed = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<EngineConnection>> _opened = new();

    public bool Echo { get; set; } = true;

    public Action<EngineConnection>? OnOpenAction { get; set; }

    public Action<EngineConnection, byte[], bool>? OnMessageAction { get; set; }

    public Channel<(EngineConnection Connection, byte[] Data, bool IsBinary)> Messages { get; } =
        Channel.CreateUnbounded<(EngineConnection, byte[], bool)>();

    /// <summary>A signal for pollers: released on every open and close.</summary>
    public SemaphoreSlim Changed { get; } = new(0);

    public void OnOpen(EngineConnection connection)
    {
        connection.Listener = this;
        OnOpenAction?.Invoke(connection);
        _opened.GetOrAdd(connection.Id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(connection);
        Changed.Release();
    }

    public void OnMessage(EngineConnection connection, ReadOnlySpan<byte> data, bool isBinary)
    {
        var copy = data.ToArray();
        Messages.Writer.TryWrite((connection, copy, isBinary));
        OnMessageAction?.Invoke(connection, copy, isBinary);
        if (Echo)
        {
            connection.Send(isBinary ? EngineMessage.FromBinary(copy) : EngineMessage.FromText(copy));
        }
    }

    public void OnClose(EngineConnection connection, string reason, Exception? error)
    {
        if (!_closed.GetOrAdd(connection.Id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(reason))
        {
            throw new InvalidOperationException("OnClose called twice for " + connection.Id);
        }

        Changed.Release();
    }

    public Task<string> WaitClosedAsync(string sid)
        => _closed.GetOrAdd(sid, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.DefaultTimeout();

    public bool IsClosed(string sid) => _closed.TryGetValue(sid, out var tcs) && tcs.Task.IsCompleted;

    public Task<EngineConnection> WaitOpenedAsync(string sid)
        => _opened.GetOrAdd(sid, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.DefaultTimeout();

    public async Task<(EngineConnection Connection, byte[] Data, bool IsBinary)> NextMessageAsync()
        => await Messages.Reader.ReadAsync().AsTask().DefaultTimeout();
}
