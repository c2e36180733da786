using System.Text.Json;
using Herald.Testing;

namespace Herald.SocketIO.Tests;

/// <summary>A SocketIOServer with a manual clock, and helpers to connect fake clients.</summary>
internal sealed class TestServer
{
    public TestServer(Action<SocketIOOptions>? configure = null)
    {
        var options = new SocketIOOptions { TimeProvider = Time };
        configure?.Invoke(options);
        Io = new SocketIOServer(options);
    }

    public ManualTimeProvider Time { get; } = new();

    public SocketIOServer Io { get; }

    public FakeEngineConnection Open(FakeEngineConnection? connection = null)
    {
        connection ??= new FakeEngineConnection();
        Io.OnOpen(connection);
        return connection;
    }

    /// <summary>Opens a connection and joins <paramref name="ns"/>; returns the connection and the socket id.</summary>
    public (FakeEngineConnection Connection, string Sid) Connect(string ns = "/", string? auth = null)
    {
        var connection = Open();
        var prefix = ns == "/" ? "0" : "0" + ns + ",";
        connection.Receive(prefix + (auth ?? ""));
        var answer = connection.Texts.Single(t => t.StartsWith("4" + prefix, StringComparison.Ordinal) && t.Contains("sid"));
        var sid = JsonDocument.Parse(answer[(1 + prefix.Length)..]).RootElement.GetProperty("sid").GetString()!;
        connection.Clear();
        return (connection, sid);
    }

    public Socket Socket(string sid, string ns = "/") => Io.Of(ns).Sockets[sid];
}
