using System.Text;
using Herald.Protocol.Cluster;

namespace Herald.Messaging.Tests;

public sealed class ClusterEnvelopeCodecTests
{
    [Fact]
    public void RoundTrip_KeepsEveryField()
    {
        var envelope = new ClusterEnvelope
        {
            Source = "web-server-1",
            Target = "web-server-2",
            Kind = ClusterEnvelopeKinds.BroadcastWithAck,
            Namespace = "/chat",
            Rooms = ["news", "sport"],
            Except = ["sid-1"],
            Flags = ClusterEnvelopeFlags.Volatile | ClusterEnvelopeFlags.Compress | ClusterEnvelopeFlags.Binary,
            RequestId = "req-7",
            AckTimeoutMilliseconds = 5000,
            Packet = "{\"type\":5,\"data\":[\"greeting\",{\"_placeholder\":true,\"num\":0}]}"u8.ToArray(),
            Data = "[1,2,3]"u8.ToArray(),
            Attachments = [new byte[] { 1, 2, 3 }, Array.Empty<byte>()],
        };

        var json = ClusterEnvelopeCodec.Encode(envelope);

        Assert.True(ClusterEnvelopeCodec.TryParse(json, out var parsed, out var error), error);
        Assert.Equal(1, parsed.Version);
        Assert.Equal("web-server-1", parsed.Source);
        Assert.Equal("web-server-2", parsed.Target);
        Assert.Equal("broadcast-ack", parsed.Kind);
        Assert.Equal("/chat", parsed.Namespace);
        Assert.Equal(["news", "sport"], parsed.Rooms);
        Assert.Equal(["sid-1"], parsed.Except);
        Assert.Equal(envelope.Flags, parsed.Flags);
        Assert.Equal("req-7", parsed.RequestId);
        Assert.Equal(5000, parsed.AckTimeoutMilliseconds);
        Assert.Equal(envelope.Packet.ToArray(), parsed.Packet.ToArray());
        Assert.Equal("[1,2,3]", Encoding.UTF8.GetString(parsed.Data.Span));
        Assert.Equal([1, 2, 3], parsed.Attachments[0].ToArray());
        Assert.True(parsed.Attachments[1].IsEmpty);
        Assert.False(parsed.IsFor("web-server-1"));
        Assert.True(parsed.IsFor("web-server-2"));
    }

    [Fact]
    public void Encode_WritesTheDocumentedCompactForm()
    {
        var envelope = new ClusterEnvelope
        {
            Source = "rpc-server-1",
            Kind = ClusterEnvelopeKinds.Broadcast,
            Rooms = ["news"],
            Flags = ClusterEnvelopeFlags.Volatile,
            Packet = "{\"type\":2,\"data\":[\"greeting\",\"Hello\"]}"u8.ToArray(),
        };

        Assert.Equal(
            "{\"v\":1,\"source\":\"rpc-server-1\",\"kind\":\"broadcast\",\"nsp\":\"/\",\"rooms\":[\"news\"],\"flags\":{\"volatile\":true},\"packet\":{\"type\":2,\"data\":[\"greeting\",\"Hello\"]}}",
            Encoding.UTF8.GetString(ClusterEnvelopeCodec.Encode(envelope)));
    }

    [Fact]
    public void MinimalForeignEnvelope_GetsDefaults_AndUnknownMembersAreIgnored()
    {
        var json = """
            { "source": "erlang-1", "kind": "broadcast", "future": {"x": [1, {"y": 2}]},
              "packet": { "type": 2, "data": ["flash", "going down"] }, "target": null, "flags": {"volatile": false, "turbo": true} }
            """u8;

        Assert.True(ClusterEnvelopeCodec.TryParse(json, out var parsed, out var error), error);
        Assert.Equal(1, parsed.Version);
        Assert.Null(parsed.Target);
        Assert.Equal("/", parsed.Namespace);
        Assert.Empty(parsed.Rooms);
        Assert.Empty(parsed.Except);
        Assert.Equal(ClusterEnvelopeFlags.None, parsed.Flags);
        Assert.Equal("{ \"type\": 2, \"data\": [\"flash\", \"going down\"] }", Encoding.UTF8.GetString(parsed.Packet.Span));
        Assert.True(parsed.IsFor("any-node"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("{")]
    [InlineData("{\"source\":\"a\"}")]
    [InlineData("{\"kind\":\"broadcast\"}")]
    [InlineData("{\"source\":\"\",\"kind\":\"broadcast\"}")]
    [InlineData("{\"source\":5,\"kind\":\"broadcast\"}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"rooms\":\"news\"}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"rooms\":[1]}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"flags\":[\"volatile\"]}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"flags\":{\"volatile\":1}}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"attachments\":[\"***\"]}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"v\":\"1\"}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"v\":0}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"ackTimeout\":1e99}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\",\"packet\":{\"a\":}}")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\"} trailing")]
    [InlineData("{\"source\":\"a\",\"kind\":\"broadcast\"}{}")]
    public void BadInput_IsRejected_WithAReason_NeverThrown(string json)
    {
        Assert.False(ClusterEnvelopeCodec.TryParse(Encoding.UTF8.GetBytes(json), out var parsed, out var error));
        Assert.Null(parsed);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Limits_BoundRoomsDepthAndSize()
    {
        var limits = new ClusterEnvelopeLimits { MaxRooms = 2, MaxDepth = 4, MaxEnvelopeSize = 200, MaxAttachments = 1 };
        Assert.False(ClusterEnvelopeCodec.TryParse("{\"source\":\"a\",\"kind\":\"b\",\"rooms\":[\"1\",\"2\",\"3\"]}"u8, out _, out var e1, limits));
        Assert.Contains("rooms", e1);
        Assert.False(ClusterEnvelopeCodec.TryParse("{\"source\":\"a\",\"kind\":\"b\",\"packet\":[[[[[1]]]]]}"u8, out _, out _, limits));
        Assert.False(ClusterEnvelopeCodec.TryParse("{\"source\":\"a\",\"kind\":\"b\",\"attachments\":[\"AA==\",\"AA==\"]}"u8, out _, out _, limits));
        Assert.False(ClusterEnvelopeCodec.TryParse(Encoding.UTF8.GetBytes("{\"source\":\"a\",\"kind\":\"b\",\"x\":\"" + new string('x', 300) + "\"}"), out _, out var e4, limits));
        Assert.Contains("limit", e4);
        Assert.True(ClusterEnvelopeCodec.TryParse("{\"source\":\"a\",\"kind\":\"b\",\"rooms\":[\"1\",\"2\"]}"u8, out _, out _, limits));
    }
}
