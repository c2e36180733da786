using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.PeerLinks;

/// <summary>
/// The server side of peer links: serves this node's message channel to other nodes over WebSockets the host
/// accepted (the ASP.NET Core endpoint is <c>app.MapHeraldChannel("/herald/channel")</c> in Herald.PeerLinks).
/// A linked node subscribes to channels of this node's own bus and publishes on it.
/// </summary>
/// <remarks>
/// Links are not transitive: a session works on this node's local bus (the bus under a
/// <see cref="PeerLinkMessageBus"/>), so what this node receives over its own links is not passed on to the
/// nodes linked to it, and what they publish here is not forwarded further. A service therefore receives a
/// node's topics only when it links to that node, as in SFN.
/// </remarks>
public sealed class PeerLinkServer
{
    private readonly IMessageBus _bus;
    private readonly PeerLinkServerOptions _options;
    private readonly ILogger _logger;
    private readonly byte[]? _keyHash;
    private int _sessions;

    /// <summary>Creates the server over this node's bus.</summary>
    /// <param name="bus">The node's bus; for a <see cref="PeerLinkMessageBus"/>, its local bus is served.</param>
    /// <param name="options">The endpoint options (the key).</param>
    /// <param name="logger">The logger.</param>
    public PeerLinkServer(IMessageBus bus, IOptions<PeerLinkServerOptions> options, ILogger<PeerLinkServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(options);
        _bus = bus is PeerLinkMessageBus peers ? peers.Local : bus;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _keyHash = string.IsNullOrEmpty(_options.Key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(_options.Key));
    }

    /// <summary>The name of this node, announced to linking nodes.</summary>
    public string NodeName => _bus.NodeName;

    /// <summary>The endpoint options.</summary>
    public PeerLinkServerOptions Options => _options;

    /// <summary>The number of nodes linked now.</summary>
    public int SessionCount => Volatile.Read(ref _sessions);

    /// <summary>
    /// True when <paramref name="presentedKey"/> is the configured key. The comparison takes the same time
    /// whatever the key (both sides are hashed to a fixed length, then compared with
    /// <see cref="CryptographicOperations.FixedTimeEquals"/>). With no key configured nothing is accepted.
    /// </summary>
    /// <param name="presentedKey">The value of the <c>Herald-Key</c> header.</param>
    /// <returns>Whether the node may link.</returns>
    public bool IsAuthorized(string? presentedKey)
    {
        if (_keyHash is null || presentedKey is null)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey), presented);
        return CryptographicOperations.FixedTimeEquals(presented, _keyHash);
    }

    /// <summary>
    /// Serves one linked node over an accepted WebSocket until it leaves, misbehaves or
    /// <paramref name="stopping"/> fires (then the socket is closed with 1001 so the node reconnects elsewhere or later).
    /// </summary>
    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="remoteNode">The name the node gave (<c>Herald-Node</c> header), for logs.</param>
    /// <param name="stopping">Ends the session (host shutdown).</param>
    /// <returns>A task completing when the session is over; it does not throw for network failures.</returns>
    public async Task RunAsync(WebSocket socket, string? remoteNode, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var remote = HeraldNode.IsValidName(remoteNode) ? remoteNode! : "(unnamed)";
        Interlocked.Increment(ref _sessions);
        try
        {
            var session = new PeerLinkSession(socket, _bus, _options, remote, _logger);
            await session.RunAsync(stopping).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _sessions);
        }
    }
}
