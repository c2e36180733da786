using System.Net;
using System.Security.Claims;
using System.Text;
using Herald.EngineIO;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Herald.SocketIO.Tests;

/// <summary>An in-memory Engine.IO connection: records what the server sends, feeds what the "client" sends.</summary>
internal sealed class FakeEngineConnection : EngineConnection
{
    private static int s_ids;
    private readonly Lock _lock = new();
    private readonly List<EngineMessage> _sent = [];
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeEngineConnection(ClaimsPrincipal? user = null, string query = "")
    {
        Id = "eio" + Interlocked.Increment(ref s_ids);
        var headers = new HeaderDictionary { ["User-Agent"] = "fake" };
        var q = new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query));
        Request = new EngineRequestInfo(headers, q, IPAddress.Loopback, user ?? new ClaimsPrincipal(new ClaimsIdentity()), false, "/socket.io/?EIO=4", DateTimeOffset.UnixEpoch.AddSeconds(100));
    }

    public override string Id { get; }

    public override string TransportName => "websocket";

    public override EngineRequestInfo Request { get; }

    public override bool IsConnected => !_closed.Task.IsCompleted;

    public bool Writable { get; set; } = true;

    public override bool IsWritable => Writable;

    public Task<string> Closed => _closed.Task;

    public List<EngineMessage> Sent
    {
        get
        {
            lock (_lock)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>The text packets sent, as strings (with the Engine.IO '4').</summary>
    public List<string> Texts => Sent.Where(m => !m.IsBinary).Select(m => Encoding.UTF8.GetString(m.Payload.Span)).ToList();

    public string LastText => Texts[^1];

    public override bool Send(EngineMessage message) => Send([message]);

    public override bool Send(ReadOnlySpan<EngineMessage> messages)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (!IsConnected)
            {
                return false;
            }

            _sent.AddRange(messages);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return true;
    }

    public override void Close() => End("forced close");

    public void End(string reason)
    {
        if (_closed.TrySetResult(reason))
        {
            Listener?.OnClose(this, reason, null);
        }
    }

    public void Receive(string text) => Listener!.OnMessage(this, Encoding.UTF8.GetBytes(text), isBinary: false);

    public void ReceiveBinary(byte[] data) => Listener!.OnMessage(this, data, isBinary: true);

    public void Clear()
    {
        lock (_lock)
        {
            _sent.Clear();
        }
    }

    /// <summary>Waits until a text packet satisfying <paramref name="match"/> was sent.</summary>
    public async Task<string> WaitForText(Func<string, bool> match)
    {
        var deadline = DateTime.UtcNow + Herald.Testing.TaskTimeoutExtensions.DefaultTimeoutSpan;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            var found = Texts.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("No matching packet; sent: " + string.Join(" | ", Texts));
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }
}
