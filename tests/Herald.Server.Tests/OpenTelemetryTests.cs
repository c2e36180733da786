using System.Text;
using Herald.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests;

public class OpenTelemetryTests
{
    [Fact]
    public async Task Herald_meters_are_exported_over_otlp_when_an_endpoint_is_set()
    {
        // A stand-in collector on real Kestrel: it keeps the first export that carries a Herald.SocketIO metric.
        var received = new TaskCompletionSource<(string ContentType, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (Encoding.UTF8.GetString(bytes).Contains("herald.socketio.packets.received", StringComparison.Ordinal))
            {
                received.TrySetResult((context.Request.ContentType ?? "", bytes));
            }

            return Results.Ok();
        });
        await collector.StartAsync().DefaultTimeout();
        var collectorUri = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        await using var hub = await HubInstance.StartAsync("--Herald:OpenTelemetry:OtlpEndpoint=" + collectorUri + "/v1/metrics", "--Herald:OpenTelemetry:ExportInterval=00:00:00.2");
        await using var client = await SocketIOTestClient.ConnectWebSocketAsync(hub.Uri).DefaultTimeout();
        await client.ConnectAsync().DefaultTimeout();

        var (contentType, export) = await received.Task.DefaultTimeout();
        Assert.Equal("application/x-protobuf", contentType);
        Assert.Contains("Herald.SocketIO", Encoding.UTF8.GetString(export), StringComparison.Ordinal); // the meter (scope) name
        await collector.StopAsync().DefaultTimeout();
    }
}
