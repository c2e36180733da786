using System.Security.Claims;
using System.Text.Json;
using Herald.EngineIO;
using Microsoft.AspNetCore.Http;

namespace Herald.SocketIO;

/// <summary>What a socket presented when it connected to its namespace (socket.io's <c>socket.handshake</c>).</summary>
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

    /// <summary>Its query string.</summary>
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
