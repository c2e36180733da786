using System.Text.Json;
using Herald.Protocol.SocketIO;
using Microsoft.Extensions.Logging;

namespace Herald.SocketIO;

public sealed partial class Socket
{
    private readonly Lock _handlersLock = new();
    private readonly Dictionary<string, Func<SocketEvent, ValueTask>[]> _handlers = new(StringComparer.Ordinal);
    private Action<string, IReadOnlyList<JsonElement>>[] _anyListeners = [];
    private Action<string, IReadOnlyList<object?>>[] _anyOutgoingListeners = [];
    private Func<SocketEvent, Func<Task>, Task>[] _middlewares = [];
    private Action<Exception>[] _errorHandlers = [];
    private Action<string>[] _disconnectingHandlers = [];
    private Action<string>[] _disconnectHandlers = [];

    /// <summary>Handles an event with access to its raw arguments, attachments and ack.</summary>
    public Socket On(string eventName, Func<SocketEvent, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_handlersLock)
        {
            _handlers[eventName] = _handlers.TryGetValue(eventName, out var existing) ? [.. existing, handler] : [handler];
        }

        return this;
    }

    /// <summary>Handles an event with access to its raw arguments, attachments and ack.</summary>
    public Socket On(string eventName, Action<SocketEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e);
            return default;
        });
    }

    /// <summary>Removes every handler of <paramref name="eventName"/>.</summary>
    public Socket Off(string eventName)
    {
        lock (_handlersLock)
        {
            _handlers.Remove(eventName);
        }

        return this;
    }

    /// <summary>Adds a middleware run for every incoming event before its handlers; call <c>next</c> to go on, throw to reject (the error goes to <see cref="OnError"/>).</summary>
    public Socket Use(Func<SocketEvent, Func<Task>, Task> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        lock (_handlersLock)
        {
            _middlewares = [.. _middlewares, middleware];
        }

        return this;
    }

    /// <summary>Receives the errors of event middlewares and handlers.</summary>
    public Socket OnError(Action<Exception> handler) => AddTo(ref _errorHandlers, handler);

    /// <summary>Called when the socket starts disconnecting (it still has its rooms), with the reason.</summary>
    public Socket OnDisconnecting(Action<string> handler) => AddTo(ref _disconnectingHandlers, handler);

    /// <summary>Called once the socket disconnected, with the reason (see <see cref="DisconnectReasons"/>).</summary>
    public Socket OnDisconnect(Action<string> handler) => AddTo(ref _disconnectHandlers, handler);

    /// <summary>Called for every incoming event, before its handlers and middlewares.</summary>
    public Socket OnAny(Action<string, IReadOnlyList<JsonElement>> listener) => AddTo(ref _anyListeners, listener);

    /// <summary>Like <see cref="OnAny"/>, called before the listeners already added.</summary>
    public Socket PrependAny(Action<string, IReadOnlyList<JsonElement>> listener) => Prepend(ref _anyListeners, listener);

    /// <summary>Removes one catch-all listener, or all of them when <paramref name="listener"/> is null.</summary>
    public Socket OffAny(Action<string, IReadOnlyList<JsonElement>>? listener = null) => Remove(ref _anyListeners, listener);

    /// <summary>Called for every outgoing event (emits and broadcasts reaching this socket) with its original arguments.</summary>
    public Socket OnAnyOutgoing(Action<string, IReadOnlyList<object?>> listener) => AddTo(ref _anyOutgoingListeners, listener);

    /// <summary>Like <see cref="OnAnyOutgoing"/>, called before the listeners already added.</summary>
    public Socket PrependAnyOutgoing(Action<string, IReadOnlyList<object?>> listener) => Prepend(ref _anyOutgoingListeners, listener);

    /// <summary>Removes one outgoing catch-all listener, or all of them when <paramref name="listener"/> is null.</summary>
    public Socket OffAnyOutgoing(Action<string, IReadOnlyList<object?>>? listener = null) => Remove(ref _anyOutgoingListeners, listener);

    private Socket AddTo<T>(ref T[] list, T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (_handlersLock)
        {
            list = [.. list, item];
        }

        return this;
    }

    private Socket Prepend<T>(ref T[] list, T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (_handlersLock)
        {
            list = [item, .. list];
        }

        return this;
    }

    private Socket Remove<T>(ref T[] list, T? item)
        where T : class
    {
        lock (_handlersLock)
        {
            if (item is null)
            {
                list = [];
            }
            else
            {
                var index = Array.IndexOf(list, item);
                if (index >= 0)
                {
                    list = [.. list.AsSpan(0, index), .. list.AsSpan(index + 1)];
                }
            }
        }

        return this;
    }

    private void OnEvent(SocketIOPacket packet)
    {
        var nameElement = packet.Data[0];
        var name = nameElement.ValueKind == JsonValueKind.String ? nameElement.GetString()! : nameElement.GetRawText();
        var evt = new SocketEvent(this, packet, name);
        var any = _anyListeners;
        foreach (var listener in any)
        {
            try
            {
                listener(name, evt.Args);
            }
            catch (Exception ex)
            {
                LogHandlerError(name, ex);
            }
        }

        var middlewares = _middlewares;
        if (middlewares.Length == 0)
        {
            Dispatch(evt);
        }
        else
        {
            RunMiddlewares(evt, middlewares);
        }
    }

    private void RunMiddlewares(SocketEvent evt, Func<SocketEvent, Func<Task>, Task>[] middlewares)
    {
        var run = new MiddlewareRun(evt, middlewares);
        Task chain;
        try
        {
            chain = run.Invoke(0);
        }
        catch (Exception ex)
        {
            chain = Task.FromException(ex);
        }

        if (chain.IsCompletedSuccessfully)
        {
            AfterMiddlewares(evt, run.Reached, null);
        }
        else
        {
            _ = AwaitMiddlewares(chain, evt, run);
        }
    }

    private async Task AwaitMiddlewares(Task chain, SocketEvent evt, MiddlewareRun run)
    {
        Exception? error = null;
        try
        {
            await chain.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        AfterMiddlewares(evt, run.Reached, error);
    }

    private void AfterMiddlewares(SocketEvent evt, bool reached, Exception? error)
    {
        if (error is not null)
        {
            RaiseError(error);
            evt.Release();
        }
        else if (reached)
        {
            Dispatch(evt);
        }
        else
        {
            evt.Release();
        }
    }

    private void Dispatch(SocketEvent evt)
    {
        Func<SocketEvent, ValueTask>[]? handlers = null;
        if (Connected)
        {
            lock (_handlersLock)
            {
                _handlers.TryGetValue(evt.Name, out handlers);
            }
        }

        if (handlers is not null)
        {
            foreach (var handler in handlers)
            {
                ValueTask pending;
                try
                {
                    pending = handler(evt);
                }
                catch (Exception ex)
                {
                    LogHandlerError(evt.Name, ex);
                    RaiseError(ex);
                    continue;
                }

                if (!pending.IsCompletedSuccessfully)
                {
                    evt.AddRef();
                    _ = AwaitHandler(pending, evt);
                }
            }
        }

        evt.Release();
    }

    private async Task AwaitHandler(ValueTask pending, SocketEvent evt)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogHandlerError(evt.Name, ex);
            RaiseError(ex);
        }
        finally
        {
            evt.Release();
        }
    }

    /// <summary>
    /// Logs a handler failure within the connection's <see cref="SocketIOOptions.HandlerErrorLogRateLimit"/>, with the
    /// event name clipped and stripped of control characters (it is the client's string: up to the payload bound).
    /// </summary>
    private void LogHandlerError(string eventName, Exception ex)
    {
        if (!Logger.IsEnabled(LogLevel.Error) || !Client.TryTakeErrorLog(out var suppressed))
        {
            return;
        }

        SocketIOLog.HandlerError(Logger, SocketIOLog.Printable(eventName), Id, suppressed, ex);
    }

    private void RaiseError(Exception error)
    {
        foreach (var handler in _errorHandlers)
        {
            try
            {
                handler(error);
            }
            catch (Exception ex)
            {
                LogHandlerError("error", ex);
            }
        }
    }

    private void RaiseLifecycle(Action<string>[] handlers, string reason)
    {
        foreach (var handler in handlers)
        {
            try
            {
                handler(reason);
            }
            catch (Exception ex)
            {
                LogHandlerError("disconnect", ex);
            }
        }
    }

    private void NotifyOutgoing(string eventName, IReadOnlyList<object?> args)
    {
        foreach (var listener in _anyOutgoingListeners)
        {
            try
            {
                listener(eventName, args);
            }
            catch (Exception ex)
            {
                LogHandlerError(eventName, ex);
            }
        }
    }

    private sealed class MiddlewareRun(SocketEvent evt, Func<SocketEvent, Func<Task>, Task>[] middlewares)
    {
        public bool Reached { get; private set; }

        public Task Invoke(int index)
        {
            if (index == middlewares.Length)
            {
                Reached = true;
                return Task.CompletedTask;
            }

            return middlewares[index](evt, () => Invoke(index + 1));
        }
    }
}
