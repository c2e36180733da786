using System.Text.Json;
using Herald.Messaging.Publish;
using Herald.Testing.Sse;

namespace Herald.Sessions.Tests;

public sealed record GeoPoint(double Lat, double Lon);

public sealed record Address(string City, GeoPoint Geo);

public sealed record User(string Id, string Name, Address Address, IReadOnlyList<string> Tags) : IMessageSource
{
    public string MessageSourceKey => Id;
}

public sealed record UserAdded(User User) : Message;

public sealed record UserRemoved(string UserId) : Message;

internal static class Json
{
    public static string Str(this JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    public static async Task<JsonElement> NextSseAsync(this SseTestClient client, string type)
    {
        var e = await client.ReadEventAsync().WaitAsync(Herald.Testing.TaskTimeoutExtensions.DefaultTimeoutSpan);
        Assert.True(e.Type == type, $"expected SSE '{type}', got '{e.Type}' {e.Data}");
        using var doc = JsonDocument.Parse(e.Data);
        return doc.RootElement.Clone();
    }
}
