using System.Buffers;
using System.Text;
using Herald.Redis.Resp;

namespace Herald.Redis;

/// <summary>A reply copied out of the connection's buffer: owned, safe to keep.</summary>
internal readonly struct RedisResult
{
    private RedisResult(RespType type, long integer, byte[]? bytes, RedisResult[]? items)
    {
        Type = type;
        Integer = integer;
        Bytes = bytes;
        Items = items;
    }

    public RespType Type { get; }

    public long Integer { get; }

    public byte[]? Bytes { get; }

    public RedisResult[]? Items { get; }

    public bool IsNull => Type == RespType.Null;

    public string? AsString() => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    public static RedisResult From(in RespValue value)
    {
        switch (value.Type)
        {
            case RespType.Integer:
            case RespType.Boolean:
                return new RedisResult(value.Type, value.Integer, null, null);
            case RespType.Null:
                return new RedisResult(RespType.Null, 0, null, null);
            case RespType.Array:
            case RespType.Push:
                var items = new RedisResult[value.Items!.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = From(value.Items[i]);
                }

                return new RedisResult(value.Type, 0, null, items);
            default:
                return new RedisResult(value.Type, 0, value.Bytes.ToArray(), null);
        }
    }

    public override string ToString() => Type switch
    {
        RespType.Integer or RespType.Boolean => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespType.Null => "(nil)",
        RespType.Array or RespType.Push => $"[{string.Join(", ", Items!)}]",
        _ => AsString() ?? string.Empty,
    };
}

/// <summary>Redis could not be reached, or the connection dropped before the reply.</summary>
public sealed class RedisConnectionException : Herald.Messaging.MessageBusException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public RedisConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Redis answered a command with an error reply (<c>-ERR ...</c>).</summary>
public sealed class RedisServerException : Herald.Messaging.MessageBusException
{
    /// <summary>Creates the exception.</summary>
    public RedisServerException()
    {
    }

    /// <summary>Creates the exception with the server's error text.</summary>
    public RedisServerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public RedisServerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
