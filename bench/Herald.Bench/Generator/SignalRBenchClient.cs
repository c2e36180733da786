using System.Net.Sockets;
using System.Text;

namespace Herald.Bench.Generator;

/// <summary>
/// SignalR JSON hub protocol over a direct WebSocket to <c>/hub</c> (what the official clients do
/// with skipNegotiation): handshake <c>{"protocol":"json","version":1}</c>, records end with 0x1E.
/// Join is an invocation with an id (its completion says the group membership is in place); Pub is
/// fire-and-forget; deliveries are invocations of "msg"; server pings (type 6) are answered.
/// </summary>
internal sealed class SignalRBenchClient(Socket socket, int index) : BenchClient(socket, index)
{
    private const byte RecordSeparator = 0x1E;
    private bool _handshakeDone;

    private static ReadOnlySpan<byte> ArgumentsKey => "\"arguments\":[\""u8;

    public override ValueTask PublishAsync(string room, ReadOnlySpan<byte> payload)
    {
        return SendTextAsync("{\"type\":1,\"target\":\"Pub\",\"arguments\":[\""u8, RoomBytes(room), "\",\""u8, payload, "\"]}\u001e"u8);
    }

    protected override ValueTask OnOpenAsync() => SendTextAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8);

    protected override ValueTask SendJoinAsync(string room)
    {
        return SendTextAsync("{\"type\":1,\"invocationId\":\"1\",\"target\":\"Join\",\"arguments\":[\""u8, RoomBytes(room), "\"]}\u001e"u8);
    }

    protected override void OnMessage(ReadOnlySpan<byte> message)
    {
        while (!message.IsEmpty)
        {
            int end = message.IndexOf(RecordSeparator);
            if (end < 0)
            {
                Fail("record without separator");
                return;
            }

            OnRecord(message[..end]);
            message = message[(end + 1)..];
        }
    }

    private void OnRecord(ReadOnlySpan<byte> record)
    {
        if (!_handshakeDone)
        {
            _handshakeDone = true;
            if (record.IndexOf("\"error\""u8) >= 0)
            {
                Fail("handshake refused: " + Encoding.UTF8.GetString(record));
            }
            else
            {
                SetReady();
            }

            return;
        }

        int t = record.IndexOf("\"type\":"u8);
        if (t < 0 || t + 7 >= record.Length)
        {
            return;
        }

        switch (record[t + 7])
        {
            case (byte)'1':
                int a = record.IndexOf(ArgumentsKey);
                if (a >= 0 && record.IndexOf("\"target\":\"msg\""u8) >= 0)
                {
                    var payload = record[(a + ArgumentsKey.Length)..];
                    int end = payload.IndexOf((byte)'"');
                    if (end >= 0)
                    {
                        Sink?.OnDelivery(this, payload[..end]);
                    }
                }

                break;
            case (byte)'3':
                if (record.IndexOf("\"error\""u8) >= 0)
                {
                    Fail("invocation failed: " + Encoding.UTF8.GetString(record));
                }
                else
                {
                    SetJoined();
                }

                break;
            case (byte)'6':
                _ = SendTextAsync("{\"type\":6}\u001e"u8);
                break;
            case (byte)'7':
                Fail("closed by hub: " + Encoding.UTF8.GetString(record));
                break;
        }
    }
}
