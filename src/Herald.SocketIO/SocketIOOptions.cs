using System.Text.Json;
using Herald.EngineIO;

namespace Herald.SocketIO;

/// <summary>Settings of a <see cref="SocketIOServer"/>.</summary>
public sealed class SocketIOOptions
{
    /// <summary>How long a new Engine.IO connection may stay without joining a namespace before it is closed (45 s like socket.io).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Remove a dynamic child namespace (and its adapter) when its last socket leaves.</summary>
    public bool CleanupEmptyChildNamespaces { get; set; }

    /// <summary>The most binary attachments one packet may announce (10 like the reference parser); more closes the connection.</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>
    /// The most rooms one socket may be in through <see cref="Socket.Join(string)"/> (1,000; its own id room does not
    /// count). Joining past it throws <see cref="RoomLimitExceededException"/>: rooms are usually joined on a client's
    /// request, and without a bound a client could grow the room index without end. Server-side bulk joins
    /// (<c>SocketsJoin</c>) are the application's own decision and are not limited.
    /// </summary>
    public int MaxRoomsPerSocket { get; set; } = 1000;

    /// <summary>
    /// JSON settings for event arguments; Herald adds the binary placeholder converters and relaxed escaping.
    /// Null: web defaults (camelCase).
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>The clock for connect and ack timeouts (tests inject a manual one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The Engine.IO settings of the endpoint (ping interval and timeout, transports, CORS, limits); its path defaults to <c>/socket.io/</c>.</summary>
    public EngineIOOptions Engine { get; set; } = new() { Path = "/socket.io/" };

    /// <summary>Creates the adapter of each namespace; null: <see cref="InMemoryAdapter"/>.</summary>
    public Func<Namespace, IAdapter>? AdapterFactory { get; set; }

    /// <summary>Connection-state recovery settings; null (the default) turns recovery off.</summary>
    public ConnectionStateRecoveryOptions? ConnectionStateRecovery { get; set; }
}
