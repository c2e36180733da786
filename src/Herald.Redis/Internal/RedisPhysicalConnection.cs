using System.IO.Pipelines;
using System.Net.Sockets;
using Herald.Redis.Resp;

namespace Herald.Redis.Internal;

/// <summary>
/// One TCP connection to Redis as a pair of pipes, after the handshake (<c>AUTH</c>, <c>SELECT</c>,
/// <c>CLIENT SETNAME</c>) succeeded. Owned by one <see cref="RedisConnection"/> session; never reused.
/// </summary>
internal sealed class RedisPhysicalConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RedisPhysicalConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public static async Task<RedisPhysicalConnection> ConnectAsync(RedisConnectionOptions options, string role, RespLimits limits, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        RedisPhysicalConnection? connection = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
            connection = new RedisPhysicalConnection(socket);
            await connection.HandshakeAsync(options, role, limits, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync(connection, socket).ConfigureAwait(false);
            throw new RedisConnectionException($"Connecting to Redis at {options} timed out after {options.ConnectTimeout}.", e);
        }
        catch (SocketException e)
        {
            await DisposeAsync(connection, socket).ConfigureAwait(false);
            throw new RedisConnectionException($"Connecting to Redis at {options} failed: {e.Message}", e);
        }
        catch
        {
            await DisposeAsync(connection, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async ValueTask DisposeAsync(RedisPhysicalConnection? connection, Socket socket)
    {
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            socket.Dispose();
        }
    }

    // The handshake is sent in one flush and its replies read in order, before the session loops start.
    private async Task HandshakeAsync(RedisConnectionOptions options, string role, RespLimits limits, CancellationToken cancellationToken)
    {
        var expected = 0;
        if (options.Password is not null)
        {
            RespWriter.WriteCommand(Output, options.User is null ? ["AUTH", options.Password] : ["AUTH", options.User, options.Password]);
            expected++;
        }

        if (options.Database != 0)
        {
            RespWriter.WriteCommand(Output, ["SELECT", (long)options.Database]);
            expected++;
        }

        RespWriter.WriteCommand(Output, ["CLIENT", "SETNAME", (options.ClientName ?? "herald") + "-" + role]);
        expected++;
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < expected; i++)
        {
            var reply = await ReadReplyAsync(limits, cancellationToken).ConfigureAwait(false);
            if (reply.Type == RespType.Error)
            {
                throw new RedisServerException($"Redis refused the connection handshake: {reply.AsString()}");
            }
        }
    }

    private async Task<RedisResult> ReadReplyAsync(RespLimits limits, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (RespReader.TryParse(ref buffer, out var value, limits))
            {
                var result = RedisResult.From(value);
                Input.AdvanceTo(buffer.Start);
                return result;
            }

            Input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new RedisConnectionException("Redis closed the connection during the handshake.");
            }
        }
    }

    /// <summary>Aborts the connection: pending reads and writes end at once.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        try
        {
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the socket is already gone; what was buffered is lost with it
        }
        catch (ObjectDisposedException)
        {
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
