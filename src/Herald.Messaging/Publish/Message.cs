using System.Text.Json.Serialization;

namespace Herald.Messaging.Publish;

/// <summary>
/// A typed, transient message (Estate's <c>Message</c>): <c>public sealed record UserAdded(User User) : Message;</c>.
/// Any System.Text.Json-serialisable property travels, nested objects included. Messages have no key and are never
/// stored: a client that is not subscribed when it is sent does not get it.
/// </summary>
public abstract record Message
{
    /// <summary>The type name clients subscribe to; by default the CLR type's name (<c>UserAdded</c>).</summary>
    [JsonIgnore]
    public virtual string MessageType => GetType().Name;
}

/// <summary>An object that sends messages (Estate's data or service instance): its type name and key identify it.</summary>
public interface IMessageSource
{
    /// <summary>The key of this instance (a primary key, a service instance name).</summary>
    string MessageSourceKey { get; }
}

/// <summary>
/// Where a message comes from: the type name and key of a data or service instance (<c>User</c>, <c>42</c>). Clients
/// subscribe with (source, message type) and get only the messages of that type from that source.
/// </summary>
public readonly record struct MessageSource
{
    /// <summary>Creates a source.</summary>
    /// <param name="type">The type name: 1 to 128 letters, digits or <c>_.-</c>.</param>
    /// <param name="key">The key: 1 to 200 characters, no control character.</param>
    public MessageSource(string type, string key)
    {
        if (!IsValidTypeName(type))
        {
            throw new ArgumentException($"'{type}' is not a valid source type name (1 to 128 letters, digits or _.-).", nameof(type));
        }

        if (!HeraldRooms.IsValidName(key))
        {
            throw new ArgumentException($"A source key is 1 to {HeraldRooms.MaxNameLength} characters with no control character.", nameof(key));
        }

        Type = type;
        Key = key;
    }

    /// <summary>The source type name (<c>User</c>).</summary>
    public string Type { get; }

    /// <summary>The source key (<c>42</c>).</summary>
    public string Key { get; }

    /// <summary>The source of type <typeparamref name="T"/> (its CLR name) and key <paramref name="key"/>.</summary>
    /// <typeparam name="T">The data or service type.</typeparam>
    /// <param name="key">The key.</param>
    /// <returns>The source.</returns>
    public static MessageSource For<T>(string key) => new(typeof(T).Name, key);

    /// <summary>The source of an instance: its CLR type name and <see cref="IMessageSource.MessageSourceKey"/>.</summary>
    /// <param name="instance">The instance.</param>
    /// <returns>The source.</returns>
    public static MessageSource Of(IMessageSource instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return new(instance.GetType().Name, instance.MessageSourceKey);
    }

    /// <summary>True when <paramref name="name"/> is a valid source or message type name: 1 to 128 letters, digits or <c>_.-</c>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool IsValidTypeName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Type + ":" + Key;
}
