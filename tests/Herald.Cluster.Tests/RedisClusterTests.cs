using System.Diagnostics;
using Herald.Messaging;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Cluster.Tests;

/// <summary>One real redis-server for the tests of a class.</summary>
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

    public static void AddBus(IServiceCollection services, RedisServerFixture server)
        => services.AddHeraldRedis(server.ConnectionString, o =>
        {
            o.Connection.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
            o.Connection.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
        });

    public static RedisMessageBus CreateBus(RedisServerFixture server, string node)
    {
        var options = new RedisMessageBusOptions { Connection = RedisConnectionOptions.Parse(server.ConnectionString) };
        return new RedisMessageBus(new HeraldNode(node), Options.Create(options));
    }

    /// <summary>Runs <c>redis-cli -p port PUBLISH channel message</c> and returns how many subscribers got it.</summary>
    public static async Task<int> RedisCliPublishAsync(RedisServerFixture server, string channel, string message)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "PUBLISH", channel, message })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();
        Assert.Equal(0, process.ExitCode);
        return int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The cluster specification with every node on its own connection to one real redis-server.</summary>
public sealed class RedisClusterTests(RedisFixture redis) : ClusterAdapterSpecification, IClassFixture<RedisFixture>
{
    protected override void ConfigureBus(IServiceCollection services, string node) => RedisFixture.AddBus(services, redis.Server);

    protected override async Task<IMessageBus> CreateWorkerBusAsync(string node)
    {
        var bus = RedisFixture.CreateBus(redis.Server, node);
        await bus.WaitConnectedForTestAsync();
        return bus;
    }
}

internal static class BusTestExtensions
{
    /// <summary>Completes once the bus reports <see cref="MessageBusState.Connected"/>.</summary>
    public static Task WaitConnectedForTestAsync(this IMessageBus bus) => bus.WaitForStateAsync(MessageBusState.Connected);

    public static async Task WaitForStateAsync(this IMessageBus bus, MessageBusState state)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, MessageBusStateChangedEventArgs e)
        {
            if (e.Current == state)
            {
                reached.TrySetResult();
            }
        }

        bus.StateChanged += OnChanged;
        try
        {
            if (bus.State == state)
            {
                return;
            }

            await reached.Task.DefaultTimeout();
        }
        finally
        {
            bus.StateChanged -= OnChanged;
        }
    }
}
