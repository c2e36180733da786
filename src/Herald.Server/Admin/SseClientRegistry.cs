using System.Collections.Concurrent;
using Herald.Sse;

namespace Herald.Server.Admin;

/// <summary>
/// What the dashboard shows of this node's SSE clients: the request that opened each connection (address, user agent,
/// query, time), captured from <see cref="SseServer.ClientConnected"/>, which runs on the request's thread.
/// </summary>
public sealed class SseClientRegistry
{
    private readonly ConcurrentDictionary<string, SseClientInfo> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _connections = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly IHttpContextAccessor _http;
    private readonly TimeProvider _time;

    /// <summary>Starts tracking the clients of <paramref name="server"/>.</summary>
    /// <param name="server">The SSE server.</param>
    /// <param name="http">Gives the connecting request.</param>
    public SseClientRegistry(SseServer server, IHttpContextAccessor http)
    {
        ArgumentNullException.ThrowIfNull(server);
        _http = http;
        _time = server.Options.TimeProvider;
        server.ClientConnected += OnConnected;
        server.ClientDisconnected += (client, _) => OnDisconnected(client);
    }

    /// <summary>The connected clients.</summary>
    public ICollection<SseClientInfo> Clients => _clients.Values;

    // A resuming EventSource may attach its new connection before the old one's end is reported: an id leaves the
    // list only when its last connection ended.
    private void OnDisconnected(SseClient client)
    {
        lock (_lock)
        {
            if (_connections.TryGetValue(client.Id, out var count) && count > 1)
            {
                _connections[client.Id] = count - 1;
                return;
            }

            _connections.Remove(client.Id);
            _clients.TryRemove(client.Id, out _);
        }
    }

    private void OnConnected(SseClient client)
    {
        var request = _http.HttpContext?.Request;
        lock (_lock)
        {
            _connections[client.Id] = _connections.GetValueOrDefault(client.Id) + 1;
        }

        _clients[client.Id] = new SseClientInfo(
            client,
            _time.GetUtcNow(),
            request?.HttpContext.Connection.RemoteIpAddress?.ToString(),
            request?.Headers.UserAgent.ToString(),
            request?.QueryString.Value,
            request?.Headers["Last-Event-ID"].ToString() is { Length: > 0 } last ? last : null);
    }
}

/// <summary>One SSE client as the dashboard shows it.</summary>
/// <param name="Client">The client.</param>
/// <param name="ConnectedAt">When its current connection opened.</param>
/// <param name="Address">The remote address.</param>
/// <param name="UserAgent">The user agent.</param>
/// <param name="Query">The query string of the request.</param>
/// <param name="LastEventId">The Last-Event-ID it resumed from, if any.</param>
public sealed record SseClientInfo(SseClient Client, DateTimeOffset ConnectedAt, string? Address, string? UserAgent, string? Query, string? LastEventId);
