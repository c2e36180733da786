using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Testing;

/// <summary>
/// A WebSocket client on a raw TCP socket, for what a well-behaved client never does: stop reading (a
/// tiny receive buffer and no reads, so the server's writes stall), or send arbitrary frames and bytes
/// (fuzzing). The handshake is read byte by byte so nothing after the 101 headers is consumed.
/// </summary>
public sealed class RawWebSocketClient : IAsyncDisposable
{
    private readonly Socket _socket;

    private RawWebSocketClient(Socket socket)
    {
        _socket = socket;
    }

    public Socket Socket => _socket;

    /// <summary>Connects and completes the WebSocket handshake for <paramref name="pathAndQuery"/>.</summary>
    /// <param name="receiveBufferSize">SO_RCVBUF set before connecting (small: the server's writes stall sooner).</param>
    public static async Task<RawWebSocketClient> ConnectAsync(Uri baseUri, string pathAndQuery, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is int size)
        {
            socket.ReceiveBufferSize = size;
        }

        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(baseUri.Host), baseUri.Port)).DefaultTimeout();
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {pathAndQuery} HTTP/1.1\r\nHost: {baseUri.Host}:{baseUri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None).DefaultTimeout();
            var client = new RawWebSocketClient(socket);
            var head = await client.ReadHeadAsync().DefaultTimeout();
            if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("WebSocket handshake refused: " + head.Split('\r')[0]);
            }

            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads one whole unfragmented server frame (the server never masks nor fragments); null at the end of the stream.</summary>
    public async Task<(byte Opcode, byte[] Payload)?> ReadFrameAsync()
    {
        var header = new byte[2];
        if (!await ReadExactlyAsync(header))
        {
            return null;
        }

        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await ReadExactlyAsync(ext);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await ReadExactlyAsync(ext);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }

        var payload = new byte[length];
        await ReadExactlyAsync(payload);
        return ((byte)(header[0] & 0x0F), payload);
    }

    /// <summary>Sends one masked frame (FIN set unless <paramref name="fin"/> is false).</summary>
    public Task SendFrameAsync(byte opcode, ReadOnlySpan<byte> payload, bool fin = true)
        => SendRawAsync(BuildFrame(opcode, payload, fin));

    /// <summary>A masked client frame with a random key.</summary>
    public static byte[] BuildFrame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true)
    {
        var headerLength = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[headerLength + 4 + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | opcode);
        if (payload.Length < 126)
        {
            frame[1] = (byte)(0x80 | payload.Length);
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
        }

        var mask = frame.AsSpan(headerLength, 4);
        RandomNumberGenerator.Fill(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[headerLength + 4 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }

    /// <summary>Sends bytes as they are.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes, SocketFlags.None).AsTask().DefaultTimeout();

    /// <summary>
    /// Reads and discards everything until the server ends the connection (FIN or reset): returns the bytes read,
    /// or throws <see cref="TimeoutException"/> when the connection is still open after <paramref name="timeout"/>.
    /// </summary>
    public async Task<long> DrainUntilClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    return total;
                }

                total += n;
            }
        }
        catch (SocketException)
        {
            return total;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The server did not close the connection within {timeout} ({total} bytes read).");
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private async Task<string> ReadHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _socket.ReceiveAsync(one, SocketFlags.None) == 0)
            {
                throw new IOException("Connection closed during the WebSocket handshake: " + head);
            }

            head.Append((char)one[0]);
            if (head.Length > 16 * 1024)
            {
                throw new IOException("WebSocket handshake response too long.");
            }
        }

        return head.ToString();
    }
}
