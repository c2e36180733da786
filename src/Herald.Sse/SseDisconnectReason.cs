namespace Herald.Sse;

/// <summary>Why an SSE connection ended.</summary>
public enum SseDisconnectReason
{
    /// <summary>The client went away (closed the EventSource, navigated, network loss).</summary>
    ClientDisconnected,

    /// <summary>The server called <c>Close()</c>: final, a reconnect gets 204.</summary>
    ClosedByServer,

    /// <summary>The client did not read fast enough and its queue overflowed; it may reconnect and resume.</summary>
    SlowClient,

    /// <summary>A newer connection with the same client id took over.</summary>
    Replaced,

    /// <summary>The application is stopping.</summary>
    ServerShutdown,

    /// <summary>The server ended the connection with <c>SseClient.Disconnect()</c>; not final, the client reconnects and resumes.</summary>
    DisconnectedByServer,
}
