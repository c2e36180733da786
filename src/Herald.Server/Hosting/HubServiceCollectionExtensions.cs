using Herald.EngineIO;
using Herald.Messaging.PeerLinks;
using Herald.Server.Admin;
using Herald.Server.Api;
using Herald.Server.Metrics;
using Herald.Sessions;
using Herald.Sse;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>Composes the hub from configuration: <c>builder.AddHeraldHub()</c> then <c>app.MapHeraldHub()</c>.</summary>
public static class HubServiceCollectionExtensions
{
    /// <summary>The URL used when neither <c>--urls</c>, <c>urls</c> nor <c>ASPNETCORE_URLS</c> is given.</summary>
    public const string DefaultUrl = "http://localhost:5000";

    /// <summary>
    /// Reads and checks the <c>Herald</c> section, then registers Socket.IO (with the cluster adapter, so pushes from any
    /// process reach this node's clients), SSE, the message bus (in memory, or Redis when
    /// <c>Herald:Redis:ConnectionString</c> is set), peer links, the publish API, metrics and the dashboard.
    /// </summary>
    /// <param name="builder">The web application builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="HubConfigurationException">The configuration is invalid; the message names every bad setting.</exception>
    public static WebApplicationBuilder AddHeraldHub(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var config = builder.Configuration;
        var hub = Read(config);
        if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddOptions<HubOptions>().Bind(config.GetSection(HubOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HubOptions>, HubOptionsValidator>();

        services.AddHeraldMessaging(o =>
        {
            if (!string.IsNullOrEmpty(hub.NodeName))
            {
                o.NodeName = hub.NodeName;
            }
        });
        if (!string.IsNullOrWhiteSpace(hub.Redis.ConnectionString))
        {
            // One StackExchange.Redis multiplexer for the bus, the SSE history and the sessions (AddHeraldRedisConnection).
            if (hub.Redis.Bus == HubRedisBus.Streams)
            {
                services.AddHeraldRedisStreams(hub.Redis.ConnectionString, o =>
                {
                    o.ChannelPrefix = hub.Redis.ChannelPrefix;
                    o.OutageBufferSize = hub.Redis.OutageBufferSize;
                });
            }
            else
            {
                services.AddHeraldRedis(hub.Redis.ConnectionString, o =>
                {
                    o.ChannelPrefix = hub.Redis.ChannelPrefix;
                    o.OutageBufferSize = hub.Redis.OutageBufferSize;
                });
            }

            services.AddServerSentEventsRedisHistory(hub.Redis.ConnectionString, o => o.KeyPrefix = hub.Redis.ChannelPrefix + ":sse");

            // Sessions shared by every hub on this Redis: a socket reconnecting to another hub with its herald.sid
            // cookie finds its channels there.
            services.AddHeraldRedisSessions(hub.Redis.ConnectionString, o => o.KeyPrefix = hub.Redis.ChannelPrefix + ":session");
        }

        if (hub.PeerLinks.Count > 0)
        {
            services.AddHeraldPeerLinks(o =>
            {
                o.Key = hub.ChannelKey;
                foreach (var peer in hub.PeerLinks)
                {
                    o.Peers.Add(new PeerLinkEndpoint(peer.Name!, new Uri(peer.Url!)));
                }
            });
        }

        if (!string.IsNullOrEmpty(hub.ChannelKey))
        {
            services.AddHeraldChannel(o => o.Key = hub.ChannelKey);
        }

        services.AddSocketIO(o => ConfigureSocketIO(o, hub, config)).AddClusterAdapter();
        services.AddServerSentEvents(o =>
        {
            o.MaxClients = hub.Limits.MaxSseClients;
            foreach (var origin in hub.Cors.Origins)
            {
                o.AllowedOrigins.Add(origin);
            }

            o.ResumeKey = HubSecret.Derive(hub.Secret, HubSecret.SseResumeLabel); // an explicit Herald:Sse:ResumeKey wins
            ClearIfConfigured(config, "Herald:Sse:AllowedOrigins", o.AllowedOrigins); // replaces Herald:Cors:Origins
            config.GetSection("Herald:Sse").Bind(o); // every SseOptions knob, raw
        });

        // Sessions, channels, users and typed messages (docs/sessions.md): the herald.sid cookie, sockets and
        // EventSources kept in their session's rooms on every node. Herald:Sessions binds every HeraldSessionOptions
        // knob (SigningKey, Cookie*, MaxChannelsPerSession, AllowedOrigins). Typed messages are deny-by-default; the
        // demo allows its own DemoUser source only.
        services.AddHeraldSessions(o =>
        {
            if (hub.Demo.Enabled)
            {
                o.AuthorizeMessageSubscription = static r => ValueTask.FromResult(r.Source.Type == "DemoUser");
            }

            o.SigningKey = HubSecret.Derive(hub.Secret, HubSecret.SessionCookieLabel); // an explicit Herald:Sessions:SigningKey wins
            ClearIfConfigured(config, "Herald:Sessions:Namespaces", o.Namespaces); // replaces the default "/"
            ClearIfConfigured(config, "Herald:Sessions:AllowedOrigins", o.AllowedOrigins);
            config.GetSection("Herald:Sessions").Bind(o);
        });
        HubIdentity.Add(services, hub); // Herald:Identity: tokens, proxy hooks, user API (off unless configured)

        services.AddHttpContextAccessor();
        var logGeneratedKey = builder.Environment.IsDevelopment(); // never a secret in a production log
        services.AddSingleton(sp => HubKeys.Create(hub, sp.GetRequiredService<ILogger<HubKeys>>(), logGeneratedKey));
        services.AddSingleton<HubMetricsCollector>();
        services.AddSingleton(sp => new HubAudit(sp.GetRequiredService<ILoggerFactory>()));
        if (!string.IsNullOrEmpty(hub.OpenTelemetry.OtlpEndpoint))
        {
            services.AddSingleton(_ => new HubOpenTelemetry(new Uri(hub.OpenTelemetry.OtlpEndpoint), hub.OpenTelemetry.ExportInterval));
        }

        services.AddSingleton<SseClientRegistry>();
        services.AddSingleton<HubNamespaces>();
        services.AddHubCommands();
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Herald hub HTTP API";
            doc.Info.Description = "Publish to Socket.IO clients, SSE clients and message-channel topics from any language. See docs/http-api.md.";
            return Task.CompletedTask;
        }));
        if (hub.Demo.Enabled)
        {
            services.AddHostedService(sp => new DemoClock(sp.GetRequiredService<SseServer>(), hub.Demo.ClockInterval, TimeProvider.System));
        }

        return builder;
    }

    /// <summary>Binds and validates the <c>Herald</c> section now, so a bad setting stops the hub before anything starts.</summary>
    /// <param name="config">The configuration.</param>
    /// <returns>The options.</returns>
    /// <exception cref="HubConfigurationException">A value does not convert, or fails validation.</exception>
    public static HubOptions Read(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        HubOptions hub;
        try
        {
            hub = config.GetSection(HubOptions.Section).Get<HubOptions>() ?? new HubOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key: "Failed to convert configuration value at 'Herald:Limits:...' ...".
            throw new HubConfigurationException("Invalid Herald configuration: " + e.Message, e);
        }

        var result = new HubOptionsValidator().Validate(null, hub);
        List<string> failures = result.Failed ? [.. result.Failures] : [];
        foreach (var (key, message) in hub.ForwardedHeaders.Validate())
        {
            failures.Add($"Herald:{key}: {message}");
        }

        // The effective Socket.IO/Engine.IO options, as the hub will run with them: Herald:Cors and Herald:Limits
        // applied, then every Herald:SocketIO key bound over them.
        try
        {
            var socketIO = ConfigureSocketIO(new SocketIO.SocketIOOptions(), hub, config);
            failures.AddRange(socketIO.GetErrors().Select(e => "Herald:SocketIO:" + e));
        }
        catch (InvalidOperationException e)
        {
            failures.Add("Herald:SocketIO: " + e.Message);
        }

        if (failures.Count > 0)
        {
            throw new HubConfigurationException("Invalid Herald configuration:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", failures));
        }

        return hub;
    }

    /// <summary>
    /// Applies the hub's settings to Socket.IO: <c>Herald:Limits:MaxPayloadBytes</c>, <c>Herald:Cors</c>, then every key
    /// under <c>Herald:SocketIO</c> (a list there, such as <c>Engine:Transports</c> or <c>Engine:Cors:Origins</c>,
    /// replaces the default, which is empty).
    /// </summary>
    internal static SocketIO.SocketIOOptions ConfigureSocketIO(SocketIO.SocketIOOptions o, HubOptions hub, IConfiguration config)
    {
        o.Engine.MaxHttpBufferSize = hub.Limits.MaxPayloadBytes;
        if (hub.Cors.Origins.Count > 0)
        {
            o.Engine.Cors = new EngineIOCorsOptions { Origins = [.. hub.Cors.Origins], Credentials = hub.Cors.Credentials };
        }

        ClearIfConfigured(config, "Herald:SocketIO:Engine:Transports", o.Engine.Transports);
        if (o.Engine.Cors is { } cors)
        {
            // Herald:SocketIO:Engine:Cors:Origins replaces Herald:Cors:Origins rather than adding to it.
            ClearIfConfigured(config, "Herald:SocketIO:Engine:Cors:Origins", cors.Origins);
            ClearIfConfigured(config, "Herald:SocketIO:Engine:Cors:AllowedHeaders", cors.AllowedHeaders);
        }

        config.GetSection("Herald:SocketIO").Bind(o); // every SocketIOOptions/EngineIOOptions knob, raw
        return o;
    }

    /// <summary>
    /// Empties <paramref name="list"/> when configuration gives items under <paramref name="key"/>: the binder appends
    /// to a list that is not empty, so without this a configured list would be added to a default (or to a hub-wide
    /// setting) instead of replacing it, e.g. <c>Herald:Sessions:Namespaces:0=/chat</c> giving <c>/</c> and <c>/chat</c>.
    /// </summary>
    private static void ClearIfConfigured(IConfiguration config, string key, ICollection<string> list)
    {
        if (list.Count > 0 && config.GetSection(key).GetChildren().Any())
        {
            list.Clear();
        }
    }
}

/// <summary>The hub's configuration is invalid; the message names each bad setting.</summary>
public sealed class HubConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubConfigurationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong, naming the settings.</param>
    public HubConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What is wrong, naming the settings.</param>
    /// <param name="innerException">The cause.</param>
    public HubConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
