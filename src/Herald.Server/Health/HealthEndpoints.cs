using Herald.Messaging;
using Herald.Server.Hosting;

namespace Herald.Server.Health;

/// <summary>
/// <c>/healthz</c>: the process is alive (always 200 while it serves). <c>/readyz</c>: it can do its job: the message
/// bus is connected (with Redis, the connection to Redis and every subscription restored), else 503, so a load balancer
/// or Kubernetes sends no client to a node that cannot reach the cluster.
/// </summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).WithTags("health");
        app.MapGet("/readyz", (HttpContext http, IMessageBus bus, HubKeys keys) =>
        {
            var state = bus.State;
            var ready = state == MessageBusState.Connected;
            var status = ready ? "ready" : "not ready";

            // The node name and bus type are for operators: an anonymous caller (a load balancer) learns only the status.
            object body = keys.IsAuthorized(http.Request, allowBasic: true)
                ? new { status, node = bus.NodeName, bus = bus.GetType().Name, busState = state.ToString() }
                : new { status };
            return ready ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithTags("health");
    }
}
