using Herald.Messaging;
using Herald.Server.Hosting;
using Herald.Server.Metrics;
using Herald.SocketIO;
using Herald.SocketIO.Cluster;
using Herald.Sse;
using Microsoft.Extensions.Options;

namespace Herald.Server.Admin;

/// <summary>
/// The dashboard's JSON under <c>/admin/api</c> (the page itself is <c>wwwroot/admin</c>): the cluster, namespaces and
/// rooms, sockets with their handshake, SSE clients, a metrics snapshot, and the disconnect/leave actions. An API key
/// or the <c>Herald:Admin</c> basic-auth credentials are required.
/// </summary>
internal static class AdminEndpoints
{
    private static readonly DateTimeOffset s_started = DateTimeOffset.UtcNow;

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/admin/api").AddEndpointFilter(RequireAdmin).ExcludeFromDescription();
        api.MapGet("/overview", OverviewAsync);
        api.MapGet("/namespaces", NamespacesAsync);
        api.MapGet("/sockets", SocketsAsync);
        api.MapGet("/sse", (SseClientRegistry registry) => Results.Ok(registry.Clients.OrderBy(c => c.ConnectedAt).Select(c => new
        {
            id = c.Client.Id,
            connectedAt = c.ConnectedAt,
            address = c.Address,
            userAgent = c.UserAgent,
            query = c.Query,
            lastEventId = c.LastEventId,
            topics = c.Client.Topics,
        })));
        api.MapGet("/metrics", (HubMetricsCollector metrics) => Results.Ok(new { at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), values = metrics.Snapshot() }));
        api.MapPost("/sockets/disconnect", (HttpContext http, SocketAction a, HubNamespaces namespaces) => Act(http, "disconnect", a, namespaces, static (op, _) => op.DisconnectSockets(close: false)));
        api.MapPost("/sockets/leave", (HttpContext http, SocketAction a, HubNamespaces namespaces) => string.IsNullOrEmpty(a.Room)
            ? Results.BadRequest(new { error = "'room' is required." })
            : Act(http, "leave", a, namespaces, static (op, room) => op.SocketsLeave(room!)));
        api.MapPost("/sse/disconnect", (HttpContext http, SseAction a, SseServer sse) =>
        {
            if (string.IsNullOrEmpty(a.Id) || !sse.TryGetClient(a.Id, out var client))
            {
                return Results.NotFound(new { error = "no such SSE client on this node" });
            }

            Audit(http, "disconnect SSE client " + HubAudit.Clip(a.Id));
            client.Disconnect();
            return Results.Ok(new { ok = true });
        });
    }

    private static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var keys = http.RequestServices.GetRequiredService<HubKeys>();
        var (authorized, who) = keys.Authenticate(http.Request, allowBasic: true);
        if (!authorized)
        {
            http.RequestServices.GetRequiredService<HubAudit>().Refused(http, who);
            http.Response.Headers.WWWAuthenticate = keys.HasBasic ? "Basic realm=\"herald\", charset=\"UTF-8\"" : "Bearer realm=\"herald\"";
            return Results.Json(new { error = "authentication required" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        http.Items[WhoKey] = who;
        return await next(context);
    }

    private const string WhoKey = "herald.admin.who";

    private static void Audit(HttpContext http, string action)
        => http.RequestServices.GetRequiredService<HubAudit>().Action(http, http.Items[WhoKey] as string ?? "-", action);

    private static async Task<IResult> OverviewAsync(SocketIOServer io, SseServer sse, IMessageBus bus, IOptions<HubOptions> options)
    {
        var adapter = io.Sockets.Adapter;
        var others = adapter is ClusterAdapter cluster ? cluster.Nodes : [];
        return Results.Ok(new
        {
            node = bus.NodeName,
            bus = new { kind = bus.GetType().Name, state = bus.State.ToString() },
            redis = !string.IsNullOrWhiteSpace(options.Value.Redis.ConnectionString),
            servers = await adapter.ServerCountAsync(),
            nodes = others.Prepend(bus.NodeName).ToArray(),
            peerLinks = options.Value.PeerLinks.Select(p => p.Name).ToArray(),
            uptimeSeconds = (long)(DateTimeOffset.UtcNow - s_started).TotalSeconds,
            namespaces = io.Namespaces.Count,
            localSockets = io.Namespaces.Values.Sum(n => n.Sockets.Count),
            sseConnections = sse.ConnectionCount,
        });
    }

    private static async Task<IResult> NamespacesAsync(SocketIOServer io)
    {
        var list = new List<object>();
        foreach (var ns in io.Namespaces.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var (sockets, clusterWide) = await FetchAsync(ns);
            var rooms = sockets
                .SelectMany(s => s.Rooms.Where(r => r != s.Id))
                .GroupBy(r => r, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new { name = g.Key, size = g.Count() });
            list.Add(new { name = ns.Name, sockets = sockets.Count, clusterWide, rooms });
        }

        return Results.Ok(list);
    }

    private static async Task<IResult> SocketsAsync(SocketIOServer io, IOptions<HubOptions> options)
    {
        var show = options.Value.Admin.ShowHandshakeSecrets;
        var list = new List<object>();
        foreach (var ns in io.Namespaces.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var (sockets, _) = await FetchAsync(ns);
            foreach (var s in sockets)
            {
                var h = s.Handshake;
                list.Add(new
                {
                    id = s.Id,
                    @namespace = ns.Name,
                    local = s.LocalSocket is not null,
                    transport = s.LocalSocket?.Connection.TransportName,
                    rooms = s.Rooms.Where(r => r != s.Id).Order(StringComparer.Ordinal).ToArray(),
                    data = s.Data.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()),
                    handshake = h is null ? null : new
                    {
                        address = h.Address,
                        time = h.Time,
                        url = show || h.Url is null ? h.Url : h.Url.Split('?')[0], // the query part is shown below, redacted
                        secure = h.Secure,
                        userAgent = h.Headers.UserAgent.ToString(),
                        query = h.Query.ToDictionary(q => q.Key, q => show || q.Key is "EIO" or "transport" ? q.Value.ToString() : Redacted),
                        auth = h.Auth.ValueKind == System.Text.Json.JsonValueKind.Undefined ? null : show ? h.Auth : RedactAuth(h.Auth),
                    },
                });
            }
        }

        return Results.Ok(list);
    }

    /// <summary>What the dashboard shows instead of a handshake value (Herald:Admin:ShowHandshakeSecrets is false).</summary>
    internal const string Redacted = "[redacted]";

    /// <summary>The handshake <c>auth</c> with its keys kept and every value replaced (they are usually tokens).</summary>
    private static object RedactAuth(System.Text.Json.JsonElement auth)
        => auth.ValueKind == System.Text.Json.JsonValueKind.Object
            ? auth.EnumerateObject().ToDictionary(p => p.Name, _ => Redacted)
            : Redacted;

    /// <summary>The sockets of every node when the cluster answers in time, else this node's only.</summary>
    private static async Task<(IReadOnlyList<RemoteSocket> Sockets, bool ClusterWide)> FetchAsync(Namespace ns)
    {
        try
        {
            return (await ns.FetchSocketsAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3)), true);
        }
        catch (TimeoutException)
        {
            return ([.. ns.Sockets.Values.Select(s => new RemoteSocket(ns.Adapter, s.Id, s.Handshake, s.Rooms, s.Data))], false);
        }
    }

    private static IResult Act(HttpContext http, string verb, SocketAction a, HubNamespaces namespaces, Action<BroadcastOperator, string?> action)
    {
        if (string.IsNullOrEmpty(a.Id))
        {
            return Results.BadRequest(new { error = "'id' is required." });
        }

        try
        {
            var ns = namespaces.Existing(a.Namespace);
            Audit(http, $"{verb} socket {HubAudit.Clip(a.Id)} in {ns.Name}" + (a.Room is null ? "" : " room " + HubAudit.Clip(a.Room)));
            action(ns.To(a.Id), a.Room);
        }
        catch (Api.HubCommandException e)
        {
            return Results.BadRequest(new { error = e.Message });
        }

        return Results.Ok(new { ok = true });
    }

    internal sealed record SocketAction(string Id, string? Namespace = null, string? Room = null);

    internal sealed record SseAction(string Id);
}
