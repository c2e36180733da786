using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.Logging;

namespace Herald.Messaging.Tests;

/// <summary>
/// The deployments docs/deployment.md names, each against real servers started by the test: TLS with a private CA,
/// an ACL user, several endpoints with the first one dead, Sentinel with a failover, and a 3-master Redis Cluster
/// with sharded pub/sub.
/// </summary>
public sealed class RedisDeploymentTests
{
    private static RedisMessageBus CreateBus(string connectionString, string node, Action<RedisMessageBusOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        var options = new RedisMessageBusOptions { Connection = RedisConnectionOptions.Parse(connectionString) };
        options.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
        options.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(250);
        configure?.Invoke(options);
        return new RedisMessageBus(new HeraldNode(node), Microsoft.Extensions.Options.Options.Create(options), loggerFactory);
    }

    private static Task WaitForStateAsync(IMessageBus bus, MessageBusState state, TimeSpan? timeout = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bus.StateChanged += (_, e) =>
        {
            if (e.Current == state)
            {
                reached.TrySetResult();
            }
        };
        if (bus.State == state)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(15));
    }

    private static async Task AssertCarriesAsync(IMessageBus publisher, IMessageBus subscriber, string channel)
    {
        var collector = new MessageCollector();
        await using var subscription = await subscriber.SubscribeAsync(channel, collector.Handler).DefaultTimeout();
        await publisher.PublishAsync(channel, Encoding.UTF8.GetBytes("hello " + channel)).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();
        Assert.Equal("hello " + channel, Encoding.UTF8.GetString(Assert.Single(collector.Messages).Payload));
    }

    [Fact]
    public async Task Tls_TheBusConnectsToATlsOnlyPort_TrustingAPrivateCa_AndNotWithoutIt()
    {
        var directory = Directory.CreateTempSubdirectory("herald-tls-").FullName;
        var (caFile, certFile, keyFile) = MakeCertificates(directory);
        var tlsPort = RedisServerFixture.GetFreePort();
        await using var server = await RedisServerFixture.StartAsync(
            "--tls-port", tlsPort.ToString(CultureInfo.InvariantCulture),
            "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no");
        var connectionString = $"127.0.0.1:{tlsPort},ssl=true";

        await using var a = CreateBus(connectionString, "tls-a", o => o.Connection.Configuration.TrustIssuer(caFile));
        await using var b = CreateBus(connectionString, "tls-b", o => o.Connection.Configuration.TrustIssuer(caFile));
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        await AssertCarriesAsync(a, b, "over-tls");

        // The connections really are the TLS port's (the plain one has no client but the admin check below).
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString).DefaultTimeout();
        var clients = (string)(await admin.GetDatabase().ExecuteAsync("CLIENT", "LIST").DefaultTimeout())!;
        Assert.Contains($"laddr=127.0.0.1:{tlsPort}", clients, StringComparison.Ordinal);

        // A certificate nobody trusts: the bus never connects, and says why.
        var logs = new TestLogSink();
        var failed = logs.WaitForAsync(e => e.EventId.Id == 2002);
        await using var untrusting = CreateBus(connectionString + ",connectTimeout=1000", "tls-untrusting", loggerFactory: logs.CreateFactory());
        await failed.DefaultTimeout();
        Assert.Equal(MessageBusState.Connecting, untrusting.State);
    }

    [Fact]
    public async Task Acl_TheBusConnectsAsAnAclUser_WithItsPermissions()
    {
        await using var server = await RedisServerFixture.StartAsync(
            "--requirepass", "admin-secret",
            "--user", "herald-app", "on", ">app-secret", "~herald:*", "&herald:*", "+@all");
        await using var a = CreateBus(server.ConnectionString + ",user=herald-app,password=app-secret", "acl-a");
        await using var b = CreateBus(server.ConnectionString + ",user=herald-app,password=app-secret", "acl-b");
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        await AssertCarriesAsync(a, b, "with-acl");

        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",password=admin-secret").DefaultTimeout();
        var clients = (string)(await admin.GetDatabase().ExecuteAsync("CLIENT", "LIST").DefaultTimeout())!;
        Assert.Contains("user=herald-app", clients, StringComparison.Ordinal);

        // The user's channel permissions apply: a bus with another prefix is refused by Redis, clearly.
        await using var other = CreateBus(server.ConnectionString + ",user=herald-app,password=app-secret", "acl-other", o => o.ChannelPrefix = "other");
        await WaitForStateAsync(other, MessageBusState.Connected).DefaultTimeout();
        var refused = await Assert.ThrowsAsync<Herald.Redis.RedisServerException>(async () => await other.PublishAsync("x", "x"u8.ToArray()).DefaultTimeout());
        Assert.Contains("NOPERM", refused.Message, StringComparison.Ordinal);

        // A wrong password never connects.
        await using var wrong = CreateBus(server.ConnectionString + ",user=herald-app,password=wrong,connectTimeout=500", "acl-wrong");
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await Assert.ThrowsAsync<TimeoutException>(() => WaitForStateAsync(wrong, MessageBusState.Connected, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task SeveralEndpoints_TheFirstDead_TheBusUsesTheLiveOne()
    {
        await using var server = await RedisServerFixture.StartAsync();
        var dead = RedisServerFixture.GetFreePort();
        var connectionString = $"127.0.0.1:{dead},{server.ConnectionString}";
        await using var a = CreateBus(connectionString, "endpoints-a");
        await using var b = CreateBus(connectionString, "endpoints-b");
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        await AssertCarriesAsync(a, b, "second-endpoint");
    }

    [Fact]
    public async Task Sentinel_TheBusFindsTheMasterThroughSentinel_AndFollowsAFailover()
    {
        await using var master = await RedisServerFixture.StartAsync();
        await using var replica = await RedisServerFixture.StartAsync("--replicaof", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture));
        await PollAsync(async () => (await CliAsync(replica.Port, "INFO", "replication")).Contains("master_link_status:up", StringComparison.Ordinal), "the replica to sync");
        await using var sentinel = await RedisServerFixture.StartSentinelAsync("mymaster", master.Port);
        await PollAsync(async () => (await CliAsync(sentinel.Port, "SENTINEL", "REPLICAS", "mymaster")).Contains(replica.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), "the sentinel to see the replica");

        var connectionString = $"{sentinel.ConnectionString},serviceName=mymaster";
        await using var a = CreateBus(connectionString, "sentinel-a");
        await using var b = CreateBus(connectionString, "sentinel-b");
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        var collector = new MessageCollector();
        await using var subscription = await b.SubscribeAsync("failover", collector.Handler).DefaultTimeout();
        await a.PublishAsync("failover", "before"u8.ToArray()).DefaultTimeout();
        await collector.WaitForCountAsync(1).DefaultTimeout();

        // The master dies; the sentinel promotes the replica; both buses follow it there.
        var aDown = WaitForStateAsync(a, MessageBusState.Disconnected);
        var bDown = WaitForStateAsync(b, MessageBusState.Disconnected);
        await master.StopAsync();
        await Task.WhenAll(aDown, bDown).DefaultTimeout();
        await PollAsync(async () => (await CliAsync(sentinel.Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")).Contains(replica.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), "the failover", TimeSpan.FromSeconds(30));
        await WaitForStateAsync(a, MessageBusState.Connected, TimeSpan.FromSeconds(30));
        await WaitForStateAsync(b, MessageBusState.Connected, TimeSpan.FromSeconds(30));

        await a.PublishAsync("failover", "after"u8.ToArray()).DefaultTimeout();
        await collector.WaitForCountAsync(2).DefaultTimeout();
        Assert.Equal(["before", "after"], collector.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Contains("role:master", await CliAsync(replica.Port, "INFO", "replication"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_ShardedPubSub_APublicationThroughOneNodeReachesSubscribersConnectedThroughAnother()
    {
        await using var cluster = await RedisClusterFixture.StartAsync();
        await using var a = CreateBus(cluster.Nodes[0].ConnectionString, "cluster-a");
        await using var b = CreateBus(cluster.Nodes[2].ConnectionString, "cluster-b");
        await WaitForStateAsync(a, MessageBusState.Connected).DefaultTimeout();
        await WaitForStateAsync(b, MessageBusState.Connected).DefaultTimeout();
        Assert.True(a.IsSharded);
        Assert.True(b.IsSharded);

        // Channels spread over the three shards.
        var channels = Enumerable.Range(0, 24).Select(i => $"room-{i}").ToArray();
        var collector = new MessageCollector();
        var subscriptions = new List<IAsyncDisposable>();
        foreach (var channel in channels)
        {
            subscriptions.Add(await b.SubscribeAsync(channel, collector.Handler).DefaultTimeout());
        }

        foreach (var channel in channels)
        {
            await a.PublishAsync(channel, Encoding.UTF8.GetBytes(channel)).DefaultTimeout();
        }

        await collector.WaitForCountAsync(channels.Length).DefaultTimeout();
        Assert.Equal(channels.Order(), collector.Messages.Select(m => Encoding.UTF8.GetString(m.Payload)).Order());

        // SSUBSCRIBE on the owning shard of each channel, no classic SUBSCRIBE anywhere.
        var shardsWithSubscribers = 0;
        foreach (var node in cluster.Nodes)
        {
            var sharded = await CliAsync(node.Port, ["PUBSUB", "SHARDCHANNELS", "herald:room-*"]);
            var classic = await CliAsync(node.Port, ["PUBSUB", "CHANNELS", "herald:room-*"]);
            Assert.True(string.IsNullOrWhiteSpace(classic), classic);
            shardsWithSubscribers += string.IsNullOrWhiteSpace(sharded) ? 0 : 1;
        }

        Assert.Equal(3, shardsWithSubscribers);

        // Redis has no sharded pattern subscription: refused clearly rather than silently deaf.
        await Assert.ThrowsAsync<NotSupportedException>(async () => await b.SubscribePatternAsync("room-*", collector.Handler));

        foreach (var s in subscriptions)
        {
            await s.DisposeAsync();
        }
    }

    private static Task<string> CliAsync(int port, params string[] arguments)
        => RedisClusterFixture.RedisCliAsync(["-p", port.ToString(CultureInfo.InvariantCulture), .. arguments]).ContinueWith(t => t.Result.Output, TaskScheduler.Default);

    /// <summary>Waits for a server-side condition that has no event (replication, failover) with a deadline.</summary>
    private static async Task PollAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            try
            {
                await Task.Delay(100, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
        }
    }

    /// <summary>A throwaway CA and a server certificate it signs for localhost and 127.0.0.1, as PEM files.</summary>
    private static (string Ca, string Certificate, string Key) MakeCertificates(string directory)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Herald test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var certificate = request.Create(ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        var paths = (Path.Combine(directory, "ca.crt"), Path.Combine(directory, "redis.crt"), Path.Combine(directory, "redis.key"));
        File.WriteAllText(paths.Item1, ca.ExportCertificatePem());
        File.WriteAllText(paths.Item2, certificate.ExportCertificatePem());
        File.WriteAllText(paths.Item3, key.ExportPkcs8PrivateKeyPem());
        return paths;
    }
}
