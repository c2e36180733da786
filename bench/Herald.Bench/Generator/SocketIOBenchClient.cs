using System.Net.Sockets;
using System.Text;

namespace Herald.Bench.Generator;

/// <summary>
/// Engine.IO v4 / Socket.IO v5 over a direct WebSocket (no polling, no upgrade):
/// <c>0{…}</c> open → send <c>40</c>; <c>40{"sid"}</c> connected; <c>2</c> ping → <c>3</c>;
/// join = <c>421["join","room"]</c> answered by <c>431[]</c>; pub = <c>42["pub","room","payload"]</c>;
/// deliveries = <c>42["msg","payload"]</c>; the sse scenario's publisher sends <c>42["pub-sse","room","payload"]</c>.
/// </summary>
internal sealed class SocketIOBenchClient(Socket socket, int index) : BenchClient(socket, index)
{
    private static ReadOnlySpan<byte> MsgPrefix => "42[\"msg\",\""u8;

    public override ValueTask PublishAsync(string room, ReadOnlySpan<byte> payload)
    {
        return SendTextAsync("42[\"pub\",\""u8, RoomBytes(room), "\",\""u8, payload, "\"]"u8);
    }

    /// <summary>Sends <c>42["pub-sse","room","payload"]</c>: the server pushes it to the SSE topic (the sse scenario).</summary>
    public ValueTask PublishSseAsync(string room, ReadOnlySpan<byte> payload)
    {
        return SendTextAsync("42[\"pub-sse\",\""u8, RoomBytes(room), "\",\""u8, payload, "\"]"u8);
    }

    protected override ValueTask OnOpenAsync() => ValueTask.CompletedTask;

    protected override ValueTask SendJoinAsync(string room)
    {
        return SendTextAsync("421[\"join\",\""u8, RoomBytes(room), "\"]"u8);
    }

    protected override void OnMessage(ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty)
        {
            return;
        }

        switch (message[0])
        {
            case (byte)'0':
                _ = SendTextAsync("40"u8);
                break;
            case (byte)'2':
                _ = SendTextAsync("3"u8);
                break;
            case (byte)'1':
                Fail("engine.io close");
                break;
            case (byte)'4' when message.Length >= 2:
                switch (message[1])
                {
                    case (byte)'2':
                        if (message.StartsWith(MsgPrefix))
                        {
                            var payload = message[MsgPrefix.Length..];
                            int end = payload.IndexOf((byte)'"');
                            if (end >= 0)
                            {
                                Sink?.OnDelivery(this, payload[..end]);
                            }
                        }

                        break;
                    case (byte)'0':
                        SetReady();
                        break;
                    case (byte)'3':
                        SetJoined();
                        break;
                    case (byte)'4':
                        Fail("connect error: " + Encoding.UTF8.GetString(message));
                        break;
                    case (byte)'1':
                        Fail("disconnected by server");
                        break;
                }

                break;
        }
    }
}
