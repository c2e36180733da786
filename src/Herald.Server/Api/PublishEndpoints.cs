using System.Text.Json;
using Herald.Messaging;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Herald.Server.Api;

/// <summary>
/// The HTTP publish API under <c>/api</c> (docs/http-api.md): one route per command, <c>/api/batch</c>, and
/// <c>GET /api/commands</c>. Every route needs an API key; bodies are bounded by <c>Herald:Limits:MaxPublishBodyBytes</c>.
/// </summary>
internal static partial class PublishEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(RequireKey).WithTags("publish");
        Command(api, "emit", typeof(EmitRequest), "Emit a Socket.IO event to a namespace, rooms or sockets, on every node or one.");
        Command(api, "sse", typeof(SseRequest), "Send an event to SSE clients or topics.");
        Command(api, "sse-close", typeof(SseCloseRequest), "Close SSE clients for good.");
        Command(api, "publish", typeof(TopicRequest), "Publish a message on a message-channel topic.");
        Command(api, "disconnect", typeof(DisconnectRequest), "Disconnect Socket.IO sockets (by id or room), on every node.");
        Command(api, "sockets-join", typeof(SocketsRoomsRequest), "Make Socket.IO sockets join rooms, on every node.");
        Command(api, "sockets-leave", typeof(SocketsRoomsRequest), "Make Socket.IO sockets leave rooms, on every node.");
        api.MapPost("/batch", (Delegate)BatchAsync)
            .Accepts<BatchRequest>("application/json")
            .Produces<BatchResult>()
            .WithSummary("Run several commands in order; each element names its command in 'type'.");
        // Also reached by the routes above when the Content-Type is not application/json (their Accepts metadata).
        api.MapPost("/{command}", (HttpContext context, string command) => command == "batch" ? BatchAsync(context) : RunOneAsync(context, command))
            .Produces<CommandResult>()
            .WithSummary("Run a command registered by an extension (channels, users).");
        api.MapGet("/commands", (HubCommandRegistry registry) => Results.Ok(registry.Names.ToArray()))
            .WithSummary("The names of the registered commands.");
    }

    private static void Command(RouteGroupBuilder api, string name, Type body, string summary)
        => api.MapPost("/" + name, (Delegate)((HttpContext context) => RunOneAsync(context, name)))
            .Accepts(body, "application/json")
            .Produces<CommandResult>()
            .Produces<CommandResult>(StatusCodes.Status400BadRequest)
            .WithName(name)
            .WithSummary(summary);

    private static async ValueTask<object?> RequireKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (authorized, description) = http.RequestServices.GetRequiredService<HubKeys>().Authenticate(http.Request, allowBasic: false);
        if (!authorized)
        {
            http.RequestServices.GetRequiredService<HubAudit>().Refused(http, description);
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"herald\"";
            return Results.Json(new CommandResult(false, "A valid API key is required (Authorization: Bearer KEY or X-Herald-Key: KEY)."), HubApiJsonContext.Default.CommandResult, statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    private static async Task<IResult> RunOneAsync(HttpContext context, string name)
    {
        var registry = context.RequestServices.GetRequiredService<HubCommandRegistry>();
        if (!registry.TryGet(name, out var command))
        {
            return Error(StatusCodes.Status404NotFound, $"No command '{name}'. Known: {string.Join(", ", registry.Names)}.");
        }

        var (document, failure) = await ReadBodyAsync(context);
        if (failure is not null)
        {
            return failure;
        }

        using (document)
        {
            var result = await ExecuteAsync(command, document!.RootElement, context);
            return result.Ok ? Results.Json(result, HubApiJsonContext.Default.CommandResult) : Error(StatusOf(result), result.Error!);
        }
    }

    private static async Task<IResult> BatchAsync(HttpContext context)
    {
        var registry = context.RequestServices.GetRequiredService<HubCommandRegistry>();
        var max = context.RequestServices.GetRequiredService<IOptions<HubOptions>>().Value.Limits.MaxBatchCommands;
        var (document, failure) = await ReadBodyAsync(context);
        if (failure is not null)
        {
            return failure;
        }

        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("commands", out var commands) || commands.ValueKind != JsonValueKind.Array)
            {
                return Error(StatusCodes.Status400BadRequest, "The body must be {\"commands\": [ ... ]}.");
            }

            var count = commands.GetArrayLength();
            if (count > max)
            {
                return Error(StatusCodes.Status400BadRequest, $"A batch holds at most {max} commands (Herald:Limits:MaxBatchCommands); this one has {count}.");
            }

            var results = new CommandResult[count];
            var i = 0;
            foreach (var element in commands.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                {
                    results[i++] = new CommandResult(false, "Each command is an object with a string 'type'.");
                }
                else if (!registry.TryGet(type.GetString()!, out var command))
                {
                    results[i++] = new CommandResult(false, $"No command '{type.GetString()}'.");
                }
                else
                {
                    results[i++] = await ExecuteAsync(command, element, context);
                }
            }

            return Results.Json(new BatchResult(results), HubApiJsonContext.Default.BatchResult);
        }
    }

    private static async Task<CommandResult> ExecuteAsync(IHubCommand command, JsonElement body, HttpContext context)
    {
        try
        {
            await command.ExecuteAsync(body, context.RequestAborted);
            return new CommandResult(true);
        }
        catch (HubCommandException e)
        {
            return new CommandResult(false, e.Message);
        }
        catch (MessageBusException e)
        {
            Log.BusUnavailable(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Herald.Server.Api"), command.Name, e.Message);
            return new CommandResult(false, "unavailable: " + e.Message);
        }
    }

    private static int StatusOf(CommandResult result)
        => result.Error!.StartsWith("unavailable: ", StringComparison.Ordinal) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest;

    /// <summary>Reads the body as JSON within the size limit: 413 when larger, 400 when not JSON.</summary>
    private static async Task<(JsonDocument? Document, IResult? Failure)> ReadBodyAsync(HttpContext context)
    {
        var max = context.RequestServices.GetRequiredService<IOptions<HubOptions>>().Value.Limits.MaxPublishBodyBytes;
        if (context.Request.ContentLength > max)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"The body exceeds {max} bytes (Herald:Limits:MaxPublishBodyBytes)."));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = max;
        }

        try
        {
            var document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 64 }, context.RequestAborted);
            return (document, null);
        }
        catch (JsonException e)
        {
            return (null, Error(StatusCodes.Status400BadRequest, "The body is not valid JSON: " + e.Message));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"The body exceeds {max} bytes (Herald:Limits:MaxPublishBodyBytes)."));
        }
    }

    private static IResult Error(int status, string message)
        => Results.Json(new CommandResult(false, message), HubApiJsonContext.Default.CommandResult, statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Publish API command {Command} not carried out: the bus is unavailable ({Reason})")]
        public static partial void BusUnavailable(ILogger logger, string command, string reason);
    }
}
