using Herald.Identity;
using Herald.Messaging.Publish;
using Herald.Server.Hosting;

namespace Herald.Server.Api;

/// <summary><c>GET /api/presence?channel=a</c>: who is in a channel on every node (API key required; with <c>Herald:Identity</c>).</summary>
internal static class PresenceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
        => app.MapGet("/api/presence", async (HttpContext context, string? channel) =>
        {
            if (!context.RequestServices.GetRequiredService<HubKeys>().IsAuthorized(context.Request, allowBasic: false))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"herald\"";
                return Results.Json(new CommandResult(false, "A valid API key is required (Authorization: Bearer KEY or X-Herald-Key: KEY)."), HubApiJsonContext.Default.CommandResult, statusCode: StatusCodes.Status401Unauthorized);
            }

            if (!HeraldRooms.IsValidName(channel))
            {
                return Results.Json(new CommandResult(false, "'channel' is 1 to 200 characters with no control character."), HubApiJsonContext.Default.CommandResult, statusCode: StatusCodes.Status400BadRequest);
            }

            var presence = await context.RequestServices.GetRequiredService<HeraldIdentityManager>().GetPresenceAsync(channel!, cancellationToken: context.RequestAborted);
            return Results.Json(new
            {
                channel = presence.Channel,
                users = presence.Users,
                connections = presence.Users.Values.Sum() + presence.AnonymousConnections,
                anonymous = presence.AnonymousConnections,
                nodes = presence.Nodes,
                complete = presence.Complete,
            });
        }).WithTags("identity").WithSummary("Who is in a channel, on every node: users and their connection counts.");
}
