using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The one Redis connection (a StackExchange.Redis <see cref="IConnectionMultiplexer"/>) that the Herald Redis services
/// of a process share: the message bus, the SSE history store and the session store. <c>AddHeraldRedis</c> registers
/// it once; a store registered with the same connection string reuses it. Implement it to hand Herald a multiplexer
/// the application already has (<see cref="HeraldRedisConnection(IConnectionMultiplexer, RedisConnectionOptions?)"/>).
/// </summary>
public interface IHeraldRedisConnection
{
    /// <summary>What to connect to (for logs: the endpoints, never the password), and Herald's clock.</summary>
    RedisConnectionOptions Options { get; }

    /// <summary>
    /// The multiplexer once its first connection attempt has ended, connected or not (it keeps reconnecting in the
    /// background); null before.
    /// </summary>
    IConnectionMultiplexer? Multiplexer { get; }

    /// <summary>Completes with <see cref="Multiplexer"/> once its first connection attempt has ended.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The multiplexer.</returns>
    Task<IConnectionMultiplexer> GetMultiplexerAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The default <see cref="IHeraldRedisConnection"/>: connects with <see cref="ConnectionMultiplexer.ConnectAsync(ConfigurationOptions, TextWriter)"/>
/// in the background (the constructor never blocks, and never fails because Redis is down), logs connection failures
/// and restorations, and disposes the multiplexer it made.
/// </summary>
public sealed class HeraldRedisConnection : IHeraldRedisConnection, IAsyncDisposable
{
    private readonly Task<IConnectionMultiplexer> _connecting;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly bool _owned;
    private readonly ILogger _logger;
    private volatile IConnectionMultiplexer? _multiplexer;

    /// <summary>Starts connecting in the background.</summary>
    /// <param name="options">Where and how.</param>
    /// <param name="loggerFactory">Logging, or null.</param>
    public HeraldRedisConnection(RedisConnectionOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _owned = true;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Herald.Redis.RedisConnection");
        _connecting = Task.Run(ConnectAsync);
    }

    /// <summary>Uses a multiplexer the application made (and will dispose itself).</summary>
    /// <param name="multiplexer">The multiplexer.</param>
    /// <param name="options">Herald's settings (its clock); the multiplexer's own configuration is what counts.</param>
    public HeraldRedisConnection(IConnectionMultiplexer multiplexer, RedisConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        Options = options ?? new RedisConnectionOptions { Configuration = ConfigurationOptions.Parse(multiplexer.Configuration) };
        _logger = NullLogger.Instance;
        _multiplexer = multiplexer;
        _connecting = Task.FromResult(multiplexer);
    }

    /// <inheritdoc />
    public RedisConnectionOptions Options { get; }

    /// <inheritdoc />
    public IConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <inheritdoc />
    public Task<IConnectionMultiplexer> GetMultiplexerAsync(CancellationToken cancellationToken = default)
        => _connecting.IsCompleted || !cancellationToken.CanBeCanceled ? _connecting : _connecting.WaitAsync(cancellationToken);

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        var configuration = Options.ToConfiguration();
        var attempt = 0;
        while (true)
        {
            RedisLog.Connecting(_logger, Options.ToString());
            try
            {
                // AbortOnConnectFail=false (Parse's default): returns after the first attempt whatever its outcome.
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(_logger, e.ConnectionType.ToString(), Format(e.EndPoint), e.FailureType.ToString(), e.Exception);
                multiplexer.ConnectionRestored += (_, e) => RedisLog.Connected(_logger, e.ConnectionType.ToString(), Format(e.EndPoint));
                if (multiplexer.IsConnected)
                {
                    RedisLog.Connected(_logger, "all", Options.ToString());
                }
                else
                {
                    RedisLog.ConnectionFailed(_logger, "all", Options.ToString(), "UnableToConnect", null);
                }

                if (_shutdown.IsCancellationRequested)
                {
                    await multiplexer.DisposeAsync().ConfigureAwait(false);
                    throw new ObjectDisposedException(nameof(HeraldRedisConnection));
                }

                _multiplexer = multiplexer;
                return multiplexer;
            }
            catch (StackExchange.Redis.RedisConnectionException e)
            {
                // abortConnect=true and Redis is down: try again, as the multiplexer itself would.
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt++, 10))));
                RedisLog.ConnectionFailed(_logger, "all", Options.ToString(), e.FailureType.ToString(), e);
                await Task.Delay(delay, Options.TimeProvider, _shutdown.Token).ConfigureAwait(false);
            }
        }
    }

    private static string Format(System.Net.EndPoint? endPoint) => endPoint is null ? "?" : EndPointCollection.ToString(endPoint);

    /// <summary>Disposes the multiplexer if this connection made it.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_owned || _shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            var multiplexer = await _connecting.ConfigureAwait(false);
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
