using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.SocketIO.Tests.Functional;

/// <summary>
/// Real Kestrel on 127.0.0.1:0 with <c>AddSocketIO</c> + <c>MapSocketIO</c>. With <c>user</c>, every
/// request's <c>HttpContext.User</c> is that name (standing in for an authentication handler).
/// Disposing fails the test when an Error-level log was written.
/// </summary>
public sealed class SocketIOTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ErrorLogCollector _errors;

    private SocketIOTestHost(WebApplication app, SocketIOServer io, Uri baseUri, ErrorLogCollector errors)
    {
        _app = app;
        Io = io;
        BaseUri = baseUri;
        _errors = errors;
    }

    public SocketIOServer Io { get; }

    /// <summary>The Error-level entries so far; a test that expects some empties it before disposing.</summary>
    public ErrorLogCollector Errors => _errors;

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<SocketIOTestHost> StartAsync(Action<SocketIOServer> setup, Action<SocketIOOptions>? configure = null, string? user = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var errors = new ErrorLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(errors);
        builder.Services.AddSocketIO(o =>
        {
            o.Engine.PingInterval = TimeSpan.FromSeconds(5);
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (user is not null)
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], "test"));
            }

            return next(context);
        });
        var io = app.MapSocketIO();
        setup(io);
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SocketIOTestHost(app, io, new Uri(address), errors);
    }

    public Task<SocketIOTestClient> ConnectWebSocketAsync() => SocketIOTestClient.ConnectWebSocketAsync(BaseUri);

    public Task<SocketIOTestClient> ConnectPollingAsync() => SocketIOTestClient.ConnectPollingAsync(BaseUri);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        if (!_errors.Errors.IsEmpty)
        {
            throw new InvalidOperationException("Unexpected error logs:\n" + string.Join("\n", _errors.Errors));
        }
    }
}
