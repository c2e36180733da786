using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Herald.EngineIO;

namespace Herald.SocketIO.Internal;

/// <summary>
/// The <c>Herald.SocketIO</c> meter. Packet counters are static and tag-free (one enabled-check on the hot path when
/// nobody listens); the gauges (connections by transport, namespaces, sockets, rooms) are observed only when a
/// listener collects, by walking the live servers, so they cost nothing between collections.
/// </summary>
internal static class SocketIOMetrics
{
    public const string MeterName = "Herald.SocketIO";

    private static readonly Meter s_meter = new(MeterName, typeof(SocketIOMetrics).Assembly.GetName().Version?.ToString());
    private static readonly ConditionalWeakTable<SocketIOServer, object?> s_servers = [];
    private static readonly KeyValuePair<string, object?>[] s_polling = [new("transport", EngineTransports.Polling)];
    private static readonly KeyValuePair<string, object?>[] s_websocket = [new("transport", EngineTransports.WebSocket)];

    public static readonly Counter<long> PacketsReceived = s_meter.CreateCounter<long>(
        "herald.socketio.packets.received", "{packet}", "Engine.IO messages received from Socket.IO clients (events, acks, connects, binary attachments).");

    public static readonly Counter<long> BytesReceived = s_meter.CreateCounter<long>(
        "herald.socketio.bytes.received", "By", "Bytes of the Engine.IO messages received from Socket.IO clients.");

    public static readonly Counter<long> PacketsSent = s_meter.CreateCounter<long>(
        "herald.socketio.packets.sent", "{packet}", "Socket.IO packets queued to clients (a broadcast counts once per client reached).");

    public static readonly Counter<long> BytesSent = s_meter.CreateCounter<long>(
        "herald.socketio.bytes.sent", "By", "Bytes of the Socket.IO packets queued to clients.");

    public static readonly Counter<long> ConnectsRefused = s_meter.CreateCounter<long>(
        "herald.socketio.connects_refused", "{packet}", "CONNECT packets refused by a per-connection limit, by limit (connect_rate, namespaces).");

    public static readonly Counter<long> ConnectFloodDisconnects = s_meter.CreateCounter<long>(
        "herald.socketio.connect_flood_disconnects", "{connection}", "Connections closed for sending CONNECT packets after being refused by the connect rate limit.");

    private static readonly KeyValuePair<string, object?> s_limitRate = new("limit", "connect_rate");
    private static readonly KeyValuePair<string, object?> s_limitNamespaces = new("limit", "namespaces");

    static SocketIOMetrics()
    {
        s_meter.CreateObservableUpDownCounter("herald.socketio.connections", ObserveConnections, "{connection}", "Open Engine.IO connections of Socket.IO clients, by current transport.");
        s_meter.CreateObservableUpDownCounter("herald.socketio.namespaces", () => Sum(static s => s.Namespaces.Count), "{namespace}", "Namespaces (static and dynamic children).");
        s_meter.CreateObservableUpDownCounter("herald.socketio.sockets", () => Sum(static s => SumNamespaces(s, static ns => ns.Sockets.Count)), "{socket}", "Connected sockets, all namespaces.");
        s_meter.CreateObservableUpDownCounter("herald.socketio.rooms", () => Sum(static s => SumNamespaces(s, static ns => Math.Max(0, ns.Adapter.RoomCount - ns.Sockets.Count))), "{room}", "Rooms with local members, all namespaces (a socket's own-id room excluded).");
    }

    public static void Register(SocketIOServer server) => s_servers.AddOrUpdate(server, null);

    public static void Received(int bytes)
    {
        PacketsReceived.Add(1);
        BytesReceived.Add(bytes);
    }

    public static void ConnectRefused(bool rate) => ConnectsRefused.Add(1, rate ? s_limitRate : s_limitNamespaces);

    public static void Sent(int bytes)
    {
        PacketsSent.Add(1);
        BytesSent.Add(bytes);
    }

    private static IEnumerable<Measurement<int>> ObserveConnections()
    {
        int polling = 0, websocket = 0;
        foreach (var (server, _) in s_servers)
        {
            server.CountConnections(ref polling, ref websocket);
        }

        return [new Measurement<int>(polling, s_polling), new Measurement<int>(websocket, s_websocket)];
    }

    private static int Sum(Func<SocketIOServer, int> count)
    {
        var total = 0;
        foreach (var (server, _) in s_servers)
        {
            total += count(server);
        }

        return total;
    }

    private static int SumNamespaces(SocketIOServer server, Func<Namespace, int> count)
    {
        var total = 0;
        foreach (var ns in server.Namespaces.Values)
        {
            total += count(ns);
        }

        return total;
    }
}
