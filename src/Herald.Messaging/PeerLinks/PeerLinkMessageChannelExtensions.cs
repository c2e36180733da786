namespace Herald.Messaging.PeerLinks;

/// <summary>Peer links from the message channel: <c>await channel.ConnectAsync("rpc-server-1", uri, key)</c>.</summary>
public static class PeerLinkMessageChannelExtensions
{
    /// <summary>
    /// Links this process to node <paramref name="nodeName"/>: from now on the channel receives that node's
    /// publications on the topics it subscribes to, and its publications are also published on that node.
    /// Needs the channel to run over a <see cref="PeerLinkMessageBus"/> (<c>services.AddHeraldPeerLinks()</c>).
    /// </summary>
    /// <param name="channel">The message channel.</param>
    /// <param name="nodeName">The remote node's name.</param>
    /// <param name="uri">Its channel endpoint (<c>ws://host:5000/herald/channel</c>).</param>
    /// <param name="key">The shared key; null uses <see cref="PeerLinkOptions.Key"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the first connection.</param>
    /// <returns>The connected link.</returns>
    public static Task<PeerLink> ConnectAsync(this IMessageChannel channel, string nodeName, Uri uri, string? key = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (channel is not MessageChannel { Bus: PeerLinkMessageBus peers })
        {
            throw new InvalidOperationException("Peer links need the message channel to run over a PeerLinkMessageBus: call services.AddHeraldPeerLinks().");
        }

        return peers.ConnectAsync(nodeName, uri, key, cancellationToken);
    }
}
