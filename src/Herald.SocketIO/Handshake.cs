using System.Security.Claims;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.EngineIO;
using Microsoft.AspNetCore.Http;

namespace Herald.SocketIO;

/// <summary>What a socket presented when it connected to its namespace (socket.io's <c>socket.handshake</c>).</summary>
/// <remarks>
/// Serialised with System.Text.Json (for example <c>ack(socket.Handshake)</c>) it is the object a Node server
/// sends for <c>socket.handshake</c>: <c>headers</c> (lower-case names, repeated values joined with <c>", "</c>),
/// <c>time</c> (JavaScript's <c>Date#toString</c>), <c>address</c>, <c>xdomain</c>, <c>secure</c>, <c>issued</c>,
/// <c>url</c>, <c>query</c> (case-sensitive keys, an array for a repeated key) and <c>auth</c>.
/// <see cref="User"/> is not part of it.
/// </remarks>
[JsonConverter(typeof(HandshakeJsonConverter))]
public sealed class Handshake
{
    internal Handshake(EngineRequestInfo request, JsonElement auth)
    {
        Headers = request.Headers;
        Query = request.Query;
        Address = request.RemoteAddress?.ToString();
        Time = request.Time;
        Url = request.Url;
        Secure = request.IsSecure;
        User = request.User;
        Auth = auth;
    }

    /// <summary>A handshake rebuilt from another node's snapshot (cluster adapter); <see cref="User"/> is anonymous.</summary>
    internal Handshake(IHeaderDictionary headers, IQueryCollection query, JsonElement auth, string? address, DateTimeOffset time, string? url, bool secure)
    {
        Headers = headers;
        Query = query;
        Auth = auth;
        Address = address;
        Time = time;
        Url = url;
        Secure = secure;
        User = new ClaimsPrincipal(new ClaimsIdentity());
    }

    /// <summary>The headers of the request that opened the Engine.IO session.</summary>
    public IHeaderDictionary Headers { get; }

    /// <summary>
    /// Whether the opening request was cross-origin, as socket.io computes it: it carried an <c>Origin</c> header.
    /// </summary>
    public bool XDomain => Headers.ContainsKey("Origin");

    /// <summary>Its query string, with case-sensitive keys as Node parses it (<c>Token</c> and <c>token</c> are two keys).</summary>
    public IQueryCollection Query { get; }

    /// <summary>The auth object of the CONNECT packet (an empty object when the client sent none).</summary>
    public JsonElement Auth { get; }

    /// <summary>The client's IP address.</summary>
    public string? Address { get; }

    /// <summary>When the Engine.IO session was opened.</summary>
    public DateTimeOffset Time { get; }

    /// <summary><see cref="Time"/> as unix milliseconds (socket.io's <c>issued</c>).</summary>
    public long Issued => Time.ToUnixTimeMilliseconds();

    /// <summary>The path and query of the opening request.</summary>
    public string? Url { get; }

    /// <summary>Whether the connection uses TLS.</summary>
    public bool Secure { get; }

    /// <summary>The ASP.NET Core user (<c>HttpContext.User</c>), authenticated when authentication ran for the endpoint.</summary>
    public ClaimsPrincipal User { get; }

    /// <summary>Binds <see cref="Auth"/> to a type.</summary>
    public T? GetAuth<T>(JsonSerializerOptions? options = null) => Auth.ValueKind == JsonValueKind.Undefined ? default : Auth.Deserialize<T>(options ?? Protocol.SocketIO.SocketIOJson.DefaultOptions);
}

/// <summary>Writes a <see cref="Handshake"/> as a Node server serialises <c>socket.handshake</c> (see its remarks).</summary>
internal sealed class HandshakeJsonConverter : JsonConverter<Handshake>
{
    public override Handshake Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("A Handshake is written, not read.");

    public override void Write(Utf8JsonWriter writer, Handshake value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("headers"u8);
        foreach (var (name, values) in value.Headers)
        {
            var key = name.ToLowerInvariant();
            if (key == "set-cookie")
            {
                // Node keeps set-cookie as an array; every other repeated header is joined with ", ".
                writer.WriteStartArray(key);
                foreach (var v in values)
                {
                    writer.WriteStringValue(v);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteString(key, values.Count == 1 ? values[0] : string.Join(", ", values.ToArray()));
            }
        }

        writer.WriteEndObject();
        writer.WriteString("time"u8, ToJavaScriptDateString(value.Time));
        writer.WriteString("address"u8, value.Address);
        writer.WriteBoolean("xdomain"u8, value.XDomain);
        writer.WriteBoolean("secure"u8, value.Secure);
        writer.WriteNumber("issued"u8, value.Issued);
        writer.WriteString("url"u8, value.Url);
        writer.WriteStartObject("query"u8);
        foreach (var (name, values) in value.Query)
        {
            if (values.Count == 1)
            {
                writer.WriteString(name, values[0]);
            }
            else
            {
                writer.WriteStartArray(name);
                foreach (var v in values)
                {
                    writer.WriteStringValue(v);
                }

                writer.WriteEndArray();
            }
        }

        writer.WriteEndObject();
        writer.WritePropertyName("auth"u8);
        if (value.Auth.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            value.Auth.WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// JavaScript's <c>new Date().toString()</c> in the server's time zone, as socket.io's <c>time</c>:
    /// <c>Fri Dec 04 2026 18:17:36 GMT+0000 (Coordinated Universal Time)</c>.
    /// </summary>
    internal static string ToJavaScriptDateString(DateTimeOffset time)
    {
        var zone = TimeZoneInfo.Local;
        var local = TimeZoneInfo.ConvertTime(time, zone);
        var offset = local.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        var name = zone.IsDaylightSavingTime(local) ? zone.DaylightName : zone.StandardName;
        return string.Create(CultureInfo.InvariantCulture,
            $"{local:ddd MMM dd yyyy HH:mm:ss} GMT{sign}{abs.Hours:00}{abs.Minutes:00} ({name})");
    }
}
