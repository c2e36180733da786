using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Herald.EngineIO;

/// <summary>A snapshot of the HTTP request that opened an Engine.IO session.</summary>
public sealed class EngineRequestInfo
{
    /// <summary>Creates the snapshot.</summary>
    public EngineRequestInfo(IHeaderDictionary headers, IQueryCollection query, IPAddress? remoteAddress,
        ClaimsPrincipal user, bool isSecure, string? url, DateTimeOffset time)
    {
        Headers = headers;
        Query = query;
        RemoteAddress = remoteAddress;
        User = user;
        IsSecure = isSecure;
        Url = url;
        Time = time;
    }

    /// <summary>The request headers (a copy, safe to keep).</summary>
    public IHeaderDictionary Headers { get; }

    /// <summary>The query string.</summary>
    public IQueryCollection Query { get; }

    /// <summary>The client's address.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>The ASP.NET Core user (authenticated when authentication is configured).</summary>
    public ClaimsPrincipal User { get; }

    /// <summary>Whether the request came over TLS.</summary>
    public bool IsSecure { get; }

    /// <summary>The request path and query.</summary>
    public string? Url { get; }

    /// <summary>When the handshake happened.</summary>
    public DateTimeOffset Time { get; }
}
