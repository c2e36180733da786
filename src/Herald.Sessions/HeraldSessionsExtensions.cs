using Herald.Messaging.Publish;
using Herald.Sessions;
using Herald.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Herald sessions (SocketStream-style channels, users and socket ids, Estate-style typed messages).</summary>
public static class HeraldSessionsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="HeraldSessionManager"/> (a hosted service that hooks the Socket.IO and SSE servers at start),
    /// the in-memory <see cref="ISessionStore"/> unless another is registered (e.g. <c>AddHeraldRedisSessions</c>), the
    /// <see cref="Publisher"/>, and the Socket.IO cluster adapter over the bus (so that publications from any process
    /// reach this node's sockets). Pair it with <c>app.UseHeraldSessions()</c> for the session cookie.
    /// </summary>
    /// <param name="services">The services (with <c>AddSocketIO</c> and/or <c>AddServerSentEvents</c>).</param>
    /// <param name="configure">Adjusts <see cref="HeraldSessionOptions"/>.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHeraldSessions(this IServiceCollection services, Action<HeraldSessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<HeraldSessionOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddHeraldPublisher();
        services.AddClusterAdapter();
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.TryAddSingleton<HeraldSessionManager>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HeraldSessionManager>(static sp => sp.GetRequiredService<HeraldSessionManager>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<SseOptions>, SseSessionOptionsSetup>());
        return services;
    }
}

/// <summary>Wraps the application's <see cref="SseOptions.Authorize"/> so that EventSources join their session's topics.</summary>
internal sealed class SseSessionOptionsSetup(IServiceProvider services) : IPostConfigureOptions<SseOptions>
{
    public void PostConfigure(string? name, SseOptions options)
    {
        var inner = options.Authorize;
        options.Authorize = async context =>
        {
            var result = inner is null ? SseAuthorizationResult.Accept() : await inner(context).ConfigureAwait(false);
            return result.IsAccepted
                ? await services.GetRequiredService<HeraldSessionManager>().AuthorizeSseAsync(context, result).ConfigureAwait(false)
                : result;
        };
    }
}

/// <summary>The session cookie middleware and session accessors.</summary>
public static class HeraldSessionsApplicationExtensions
{
    /// <summary>
    /// Gives every request without a valid session a <c>herald.sid</c> cookie (HttpOnly, SameSite=Lax by default: see
    /// <see cref="HeraldSessionOptions"/>): 128 random bits and their HMAC signature, so a value the server did not
    /// issue is replaced, never adopted.
    /// The new id is also put in the request's own Cookie header, so a WebSocket or EventSource opened without the
    /// cookie is already in its session. Register it before <c>MapSocketIO</c>/<c>MapServerSentEvents</c> run.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseHeraldSessions(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var manager = app.ApplicationServices.GetRequiredService<HeraldSessionManager>();
        var options = manager.Options;
        return app.Use((context, next) =>
        {
            if (manager.ResolveSessionId(context) is null)
            {
                // No session, or a cookie this server did not sign (a client-chosen value: session fixation): a new one.
                var id = manager.CreateCookieValue(HeraldSessionManager.NewSessionId());
                context.Response.Cookies.Append(options.CookieName, id, new CookieOptions
                {
                    HttpOnly = options.CookieHttpOnly,
                    SameSite = options.CookieSameSite,
                    Path = options.CookiePath,
                    MaxAge = options.Expiry,
                    Secure = options.CookieSecure == CookieSecurePolicy.Always
                        || (options.CookieSecure == CookieSecurePolicy.SameAsRequest && context.Request.IsHttps),
                });
                var cookie = context.Request.Headers.Cookie.ToString();
                context.Request.Headers.Cookie = string.IsNullOrEmpty(cookie) ? options.CookieName + "=" + id : options.CookieName + "=" + id + "; " + cookie;
            }

            return next(context);
        });
    }

    /// <summary>The session of a request (<c>null</c> when it has none: <see cref="UseHeraldSessions"/> not in the pipeline and no cookie).</summary>
    /// <param name="context">The request.</param>
    /// <returns>The session, or <c>null</c>.</returns>
    public static HeraldSession? GetHeraldSession(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var manager = context.RequestServices.GetRequiredService<HeraldSessionManager>();
        return manager.ResolveSessionId(context) is { } id ? manager.Get(id) : null;
    }

    /// <summary>The session of a socket (<c>null</c> when its namespace is not in <see cref="HeraldSessionOptions.Namespaces"/>).</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The session, or <c>null</c>.</returns>
    public static HeraldSession? GetHeraldSession(this Herald.SocketIO.Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return socket.Data.TryGetValue(HeraldSessionManager.SocketDataKey, out var session) ? session as HeraldSession : null;
    }
}
