using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Messaging.Tests;

/// <summary>One real redis-server shared by the tests of a class.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServerFixture? _server;

    public RedisServerFixture Server => _server ?? throw new InvalidOperationException("redis-server did not start.");

    public async Task InitializeAsync() => _server = await RedisServerFixture.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public static RedisMessageBusOptions BusOptions(RedisServerFixture server, string prefix = "herald")
    {
        var options = new RedisMessageBusOptions
        {
            Connection = RedisConnectionOptions.Parse(server.ConnectionString),
            ChannelPrefix = prefix,
        };
        options.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
        options.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(250);
        return options;
    }

    public static RedisMessageBus CreateBus(RedisServerFixture server, string nodeName, ILoggerFactory? loggerFactory = null, string prefix = "herald")
        => new(new HeraldNode(nodeName), Options.Create(BusOptions(server, prefix)), loggerFactory);

    /// <summary>A plain StackExchange.Redis client, to act as a foreign (non-Herald) Redis client.</summary>
    public static Task<StackExchange.Redis.ConnectionMultiplexer> ConnectRawAsync(RedisServerFixture server)
        => StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString).DefaultTimeout();
}
