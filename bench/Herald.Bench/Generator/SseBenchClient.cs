using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Bench.Generator;

/// <summary>
/// An EventSource reduced to what the load tool needs, over a raw <see cref="Socket"/>: one
/// <c>GET path</c> (HTTP/1.1), then the response body, de-chunked (Kestrel streams with
/// <c>Transfer-Encoding: chunked</c>), cut into events at blank lines. <c>herald:open</c> marks the client
/// ready (it is in its topics by then); every unnamed event's <c>data</c> is a delivery. Like
/// <see cref="BenchClient"/>, an idle client holds no buffer (zero-byte reads, pooled buffers).
/// </summary>
internal sealed class SseBenchClient : DeliveryCounters
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _raw;
    private int _rawCount;
    private byte[]? _text;
    private int _textCount;
    private bool _chunked;
    private long _chunkRemaining;
    private bool _chunkCrlf;
    private Task _receiveLoop = Task.CompletedTask;
    private volatile bool _closing;

    private SseBenchClient(Socket socket, int index)
    {
        _socket = socket;
        Index = index;
    }

    public int Index { get; }

    public ICountingSink? Sink { get; set; }

    public string? CloseReason { get; private set; }

    public static async Task<SseBenchClient> ConnectAsync(IPEndPoint server, IPAddress? source, string pathAndQuery, int index, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.SetRawSocketOption(0, 24, [1, 0, 0, 0]); // IP_BIND_ADDRESS_NO_PORT, see BenchClient
                socket.Bind(new IPEndPoint(source, 0));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StepTimeout);
            await socket.ConnectAsync(server, timeout.Token);
            byte[] request = Encoding.ASCII.GetBytes(
                $"GET {pathAndQuery} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, timeout.Token);
            var client = new SseBenchClient(socket, index);
            await client.ReadHeadAsync(timeout.Token);
            client._receiveLoop = client.ReceiveLoopAsync();
            await client._ready.Task.WaitAsync(timeout.Token);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task CloseAsync()
    {
        _closing = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
        await _receiveLoop.ConfigureAwait(false);
    }

    private void Fail(string reason)
    {
        CloseReason ??= reason;
        _ready.TrySetException(new IOException(reason));
    }

    /// <summary>Reads the status line and headers; what follows them stays in <see cref="_raw"/>.</summary>
    private async Task ReadHeadAsync(CancellationToken ct)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        int count = 0;
        while (true)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None, ct);
            if (n == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw new IOException("connection closed before the response headers");
            }

            count += n;
            int end = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = buffer.AsSpan(0, end);
                if (!head.StartsWith("HTTP/1.1 200"u8))
                {
                    string status = Encoding.ASCII.GetString(head[..Math.Min(head.Length, 100)]).Split('\r')[0];
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw new IOException("SSE request refused: " + status);
                }

                _chunked = Encoding.ASCII.GetString(head).Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase);
                int rest = count - (end + 4);
                Buffer.BlockCopy(buffer, end + 4, buffer, 0, rest);
                _raw = buffer;
                _rawCount = rest;
                return;
            }

            if (count == buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw new IOException("response headers too large");
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                if (_rawCount > 0)
                {
                    ProcessReceived();
                }

                if (_raw is not null && _rawCount == 0)
                {
                    ArrayPool<byte>.Shared.Return(_raw);
                    _raw = null;
                }

                if (_raw is null)
                {
                    // Idle: wait for data without holding a buffer.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    _raw = ArrayPool<byte>.Shared.Rent(8192);
                }
                else if (_rawCount == _raw.Length)
                {
                    _raw = Grow(_raw, _rawCount);
                }

                int n = await _socket.ReceiveAsync(_raw.AsMemory(_rawCount), SocketFlags.None);
                if (n == 0)
                {
                    Fail("closed by server");
                    break;
                }

                _rawCount += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Fail(_closing ? "closed by client" : "receive failed: " + e.Message);
        }
        catch (Exception e)
        {
            Fail("receive loop error: " + e);
        }
        finally
        {
            if (_raw is not null)
            {
                ArrayPool<byte>.Shared.Return(_raw);
                _raw = null;
            }

            if (_text is not null)
            {
                ArrayPool<byte>.Shared.Return(_text);
                _text = null;
            }
        }
    }

    /// <summary>De-chunks what was received into the text buffer, then dispatches every complete event.</summary>
    private void ProcessReceived()
    {
        var raw = _raw.AsSpan(0, _rawCount);
        int consumed = _chunked ? Dechunk(raw) : AppendText(raw);
        Buffer.BlockCopy(_raw!, consumed, _raw!, 0, _rawCount - consumed);
        _rawCount -= consumed;
        if (_textCount == 0)
        {
            return;
        }

        int used = ParseEvents(_text.AsSpan(0, _textCount));
        Buffer.BlockCopy(_text!, used, _text!, 0, _textCount - used);
        _textCount -= used;
        if (_textCount == 0)
        {
            ArrayPool<byte>.Shared.Return(_text!);
            _text = null;
        }
    }

    /// <summary>Chunked transfer coding: <c>{hex size}\r\n{data}\r\n</c>, ending with a zero size. Returns the bytes consumed.</summary>
    private int Dechunk(ReadOnlySpan<byte> data)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            if (_chunkRemaining > 0)
            {
                int take = (int)Math.Min(_chunkRemaining, data.Length - pos);
                AppendText(data.Slice(pos, take));
                pos += take;
                _chunkRemaining -= take;
                _chunkCrlf = _chunkRemaining == 0;
                continue;
            }

            if (_chunkCrlf)
            {
                if (data.Length - pos < 2)
                {
                    break;
                }

                pos += 2;
                _chunkCrlf = false;
                continue;
            }

            int lineEnd = data[pos..].IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }

            var sizeLine = data.Slice(pos, lineEnd);
            int semicolon = sizeLine.IndexOf((byte)';');
            if (semicolon >= 0)
            {
                sizeLine = sizeLine[..semicolon];
            }

            if (!Utf8Parser.TryParse(sizeLine, out long size, out _, 'x'))
            {
                throw new IOException("bad chunk size");
            }

            pos += lineEnd + 2;
            if (size == 0)
            {
                throw new IOException("the server ended the stream");
            }

            _chunkRemaining = size;
        }

        return pos;
    }

    private int AppendText(ReadOnlySpan<byte> data)
    {
        _text ??= ArrayPool<byte>.Shared.Rent(Math.Max(8192, data.Length));
        if (_text.Length - _textCount < data.Length)
        {
            _text = Grow(_text, _textCount, _textCount + data.Length);
        }

        data.CopyTo(_text.AsSpan(_textCount));
        _textCount += data.Length;
        return data.Length;
    }

    /// <summary>Dispatches each complete event (ended by a blank line); returns the bytes used.</summary>
    private int ParseEvents(ReadOnlySpan<byte> text)
    {
        int used = 0;
        while (true)
        {
            var rest = text[used..];
            int end = rest.IndexOf("\n\n"u8);
            if (end < 0)
            {
                return used;
            }

            OnEvent(rest[..(end + 1)]);
            used += end + 2;
        }
    }

    /// <summary>One event's lines (each ending with LF): <c>id:</c>, <c>event:</c>, <c>data:</c>, <c>retry:</c>, comments.</summary>
    private void OnEvent(ReadOnlySpan<byte> lines)
    {
        ReadOnlySpan<byte> type = default;
        ReadOnlySpan<byte> data = default;
        bool hasData = false;
        while (!lines.IsEmpty)
        {
            int nl = lines.IndexOf((byte)'\n');
            var line = lines[..nl];
            lines = lines[(nl + 1)..];
            if (line.StartsWith("data:"u8))
            {
                data = line[5..];
                if (!data.IsEmpty && data[0] == (byte)' ')
                {
                    data = data[1..];
                }

                hasData = true;
            }
            else if (line.StartsWith("event:"u8))
            {
                type = line[6..].TrimStart((byte)' ');
            }
        }

        if (!hasData)
        {
            return; // a heartbeat comment, or retry alone
        }

        if (type.IsEmpty || type.SequenceEqual("message"u8))
        {
            Sink?.OnDelivery(this, data);
        }
        else if (type.SequenceEqual("herald:open"u8))
        {
            _ready.TrySetResult();
        }
    }

    private static byte[] Grow(byte[] buffer, int count, int atLeast = 0)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, atLeast));
        Buffer.BlockCopy(buffer, 0, bigger, 0, count);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
