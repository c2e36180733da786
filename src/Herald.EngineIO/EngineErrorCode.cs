namespace Herald.EngineIO;

/// <summary>The error codes of a rejected Engine.IO request (the body is <c>{"code":n,"message":"..."}</c>).</summary>
public enum EngineErrorCode
{
    /// <summary>0: the <c>transport</c> query parameter is missing or not enabled.</summary>
    UnknownTransport = 0,

    /// <summary>1: the <c>sid</c> is not (or no longer) a session.</summary>
    UnknownSid = 1,

    /// <summary>2: a handshake that is not a GET.</summary>
    BadHandshakeMethod = 2,

    /// <summary>3: anything else that is malformed (transport mismatch, overlapping polls, bad payload...).</summary>
    BadRequest = 3,

    /// <summary>4: refused by <see cref="EngineIOOptions.AllowRequest"/> (HTTP 403).</summary>
    Forbidden = 4,

    /// <summary>5: <c>EIO</c> is not 4.</summary>
    UnsupportedProtocolVersion = 5,
}
