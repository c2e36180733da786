using Herald.Server.Api;
using Herald.SocketIO;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>
/// The Socket.IO namespaces the hub serves (<c>Herald:Namespaces</c>): exact names become static namespaces, names
/// ending in <c>*</c> a dynamic namespace admitting that prefix. The publish API addresses only these.
/// </summary>
public sealed class HubNamespaces
{
    private readonly SocketIOServer _io;
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<string> _prefixes = [];

    /// <summary>Creates the set from the options.</summary>
    /// <param name="io">The Socket.IO server.</param>
    /// <param name="options">The hub options.</param>
    public HubNamespaces(SocketIOServer io, IOptions<HubOptions> options)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(options);
        _io = io;
        foreach (var ns in options.Value.EffectiveNamespaces)
        {
            if (ns.EndsWith('*'))
            {
                _prefixes.Add(ns[..^1]);
            }
            else
            {
                _exact.Add(ns);
            }
        }
    }

    /// <summary>Whether clients may connect to <paramref name="name"/> and the API may address it.</summary>
    /// <param name="name">A namespace name with its leading <c>/</c>.</param>
    /// <returns>True when allowed.</returns>
    public bool IsAllowed(string name)
    {
        if (_exact.Contains(name))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Creates the static namespaces, the dynamic one for the prefixes, and refuses <c>/</c> when it is not listed.</summary>
    public void Apply()
    {
        foreach (var ns in _exact)
        {
            _io.Of(ns);
        }

        if (_prefixes.Count > 0)
        {
            _io.Of((name, _) => IsAllowed(name));
        }

        if (!IsAllowed("/"))
        {
            _io.Use((_, _) => throw new ConnectionRejectedException("the main namespace is not served by this hub (Herald:Namespaces)"));
        }
    }

    /// <summary>Normalizes <paramref name="ns"/> (default <c>/</c>) and checks it is allowed.</summary>
    /// <param name="ns">The namespace from a request.</param>
    /// <returns>The name.</returns>
    /// <exception cref="HubCommandException">Not allowed.</exception>
    public string Check(string? ns)
    {
        var name = string.IsNullOrEmpty(ns) ? "/" : ns[0] == '/' ? ns : "/" + ns;
        return IsAllowed(name) ? name : throw new HubCommandException($"The namespace '{name}' is not served by this hub (Herald:Namespaces).");
    }

    /// <summary>The namespace <paramref name="ns"/> as it exists on this node.</summary>
    /// <param name="ns">The namespace from a request (default <c>/</c>).</param>
    /// <returns>The namespace.</returns>
    /// <exception cref="HubCommandException">Not allowed, or a dynamic one no client has opened on this node.</exception>
    public Namespace Existing(string? ns)
    {
        var name = Check(ns);
        return _io.Namespaces.TryGetValue(name, out var found)
            ? found
            : throw new HubCommandException($"The namespace '{name}' has no client on this node yet.");
    }
}
