using System.Security.Cryptography;

namespace Herald.Messaging;

/// <summary>
/// The identity of this process in a Herald cluster (<c>web-server-1</c>, <c>rpc-server-1</c>). Every
/// publication carries it as its source, and <c>Via("web-server-1")</c> addresses one node by it.
/// </summary>
public sealed class HeraldNode
{
    /// <summary>Creates a node identity with the given name.</summary>
    /// <param name="name">The node name; letters, digits and <c>-_.:</c> only, at most 128 characters.</param>
    public HeraldNode(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid node name: use 1 to 128 letters, digits or -_.: characters.", nameof(name));
        }

        Name = name;
    }

    /// <summary>The node name.</summary>
    public string Name { get; }

    /// <summary>
    /// A default name, unique per process: the machine name plus a random suffix
    /// (<c>myhost-3f9a1c</c>), so two processes on one machine never share a name.
    /// </summary>
    public static string CreateDefaultName()
    {
        Span<byte> random = stackalloc byte[3];
        RandomNumberGenerator.Fill(random);
        var machine = Environment.MachineName;
        Span<char> clean = stackalloc char[Math.Min(machine.Length, 100)];
        var length = 0;
        foreach (var c in machine.AsSpan(0, clean.Length))
        {
            clean[length++] = IsValidChar(c) ? char.ToLowerInvariant(c) : '-';
        }

        var prefix = length == 0 ? "herald" : new string(clean[..length]);
        return prefix + "-" + Convert.ToHexStringLower(random);
    }

    /// <summary>True when <paramref name="name"/> can be used as a node name.</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsValidChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':';

    /// <inheritdoc />
    public override string ToString() => Name;
}
