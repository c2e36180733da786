using System.Net;
using System.Security.Claims;
using BenchmarkDotNet.Attributes;
using Herald.EngineIO;
using Herald.SocketIO;
using Microsoft.AspNetCore.Http;

namespace Herald.Microbenchmarks;

/// <summary>
/// The Socket.IO fan-out path without I/O: <c>io.To(room).Emit("msg", payload)</c> to N sockets whose
/// Engine.IO connections only count what they are given. Measures the broadcast operator, the adapter's
/// room walk and the per-socket delivery (time and bytes allocated per broadcast).
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    private SocketIOServer _io = null!;
    private CountingConnection[] _connections = [];
    private string _payload = "";

    [Params(1000)]
    public int Clients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _io = new SocketIOServer(new SocketIOOptions());
        _io.OnConnection(socket => socket.Join("bench"));
        _connections = new CountingConnection[Clients];
        for (var i = 0; i < Clients; i++)
        {
            var connection = new CountingConnection("c" + i);
            _io.OnOpen(connection);
            connection.Listener!.OnMessage(connection, "0"u8, isBinary: false);
            _connections[i] = connection;
        }

        _payload = new string('x', 80);
    }

    [Benchmark]
    public bool EmitToRoom() => _io.To("bench").Emit("msg", _payload);

    private sealed class CountingConnection(string id) : EngineConnection
    {
        private static readonly EngineRequestInfo s_request = new(new HeaderDictionary(), new QueryCollection(), IPAddress.Loopback,
            new ClaimsPrincipal(new ClaimsIdentity()), false, "/socket.io/?EIO=4", DateTimeOffset.UnixEpoch);

        public long Count;

        public override string Id { get; } = id;

        public override string TransportName => "websocket";

        public override EngineRequestInfo Request => s_request;

        public override bool IsConnected => true;

        public override bool IsWritable => true;

        public override bool Send(EngineMessage message)
        {
            Count++;
            return true;
        }

        public override bool Send(ReadOnlySpan<EngineMessage> messages)
        {
            Count += messages.Length;
            return true;
        }

        public override void Close()
        {
        }
    }
}
