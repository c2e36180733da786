namespace Herald.SocketIO;

public sealed partial class Socket
{
    /// <summary>Handles an event whose arguments are not needed.</summary>
    public Socket On(string eventName, Action handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, _ =>
        {
            handler();
            return default;
        });
    }

    /// <summary>Handles an event whose arguments are not needed, asynchronously.</summary>
    public Socket On(string eventName, Func<Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, _ => new ValueTask(handler()));
    }

    /// <summary>Handles an event, binding the first argument with System.Text.Json (binary placeholders resolved).</summary>
    public Socket On<T1>(string eventName, Action<T1> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously, binding the first argument.</summary>
    public Socket On<T1>(string eventName, Func<T1, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!)));
    }

    /// <summary>Handles an event that may ask for an acknowledgement, binding the first argument; the callback is a no-op when the client asked for none.</summary>
    public Socket On<T1>(string eventName, Action<T1, AckCallback> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!, e.AckCallback);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously with an acknowledgement callback, binding the first argument.</summary>
    public Socket On<T1>(string eventName, Func<T1, AckCallback, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!, e.AckCallback)));
    }

    /// <summary>Handles an event, binding the first 2 arguments with System.Text.Json (binary placeholders resolved).</summary>
    public Socket On<T1, T2>(string eventName, Action<T1, T2> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously, binding the first 2 arguments.</summary>
    public Socket On<T1, T2>(string eventName, Func<T1, T2, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!)));
    }

    /// <summary>Handles an event that may ask for an acknowledgement, binding the first 2 arguments; the callback is a no-op when the client asked for none.</summary>
    public Socket On<T1, T2>(string eventName, Action<T1, T2, AckCallback> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.AckCallback);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously with an acknowledgement callback, binding the first 2 arguments.</summary>
    public Socket On<T1, T2>(string eventName, Func<T1, T2, AckCallback, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.AckCallback)));
    }

    /// <summary>Handles an event, binding the first 3 arguments with System.Text.Json (binary placeholders resolved).</summary>
    public Socket On<T1, T2, T3>(string eventName, Action<T1, T2, T3> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.GetArg<T3>(2)!);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously, binding the first 3 arguments.</summary>
    public Socket On<T1, T2, T3>(string eventName, Func<T1, T2, T3, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.GetArg<T3>(2)!)));
    }

    /// <summary>Handles an event that may ask for an acknowledgement, binding the first 3 arguments; the callback is a no-op when the client asked for none.</summary>
    public Socket On<T1, T2, T3>(string eventName, Action<T1, T2, T3, AckCallback> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.GetArg<T3>(2)!, e.AckCallback);
            return default;
        });
    }

    /// <summary>Handles an event asynchronously with an acknowledgement callback, binding the first 3 arguments.</summary>
    public Socket On<T1, T2, T3>(string eventName, Func<T1, T2, T3, AckCallback, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => new ValueTask(handler(e.GetArg<T1>(0)!, e.GetArg<T2>(1)!, e.GetArg<T3>(2)!, e.AckCallback)));
    }
}
