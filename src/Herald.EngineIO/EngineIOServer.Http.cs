using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Herald.EngineIO;

/// <summary>Error answers, CORS and the session cookie.</summary>
public sealed partial class EngineIOServer
{
    private static readonly string[] s_errorMessages =
    [
        "Transport unknown",
        "Session ID unknown",
        "Bad handshake method",
        "Bad request",
        "Forbidden",
        "Unsupported protocol version",
    ];

    // The bodies of the standard errors, encoded once: {"code":0,"message":"Transport unknown"}...
    private static readonly byte[][] s_errorBodies = BuildErrorBodies();

    internal async Task RejectAsync(HttpContext context, EngineErrorCode code, string? message = null, int? status = null)
    {
        EngineIOLog.RequestRejected(Logger, (int)code, message ?? s_errorMessages[(int)code]);
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        var body = message is null ? s_errorBodies[(int)code] : EncodeError(code, message);
        response.StatusCode = status ?? (code == EngineErrorCode.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest);
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        try
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client is gone; nothing to answer.
        }
    }

    private static byte[][] BuildErrorBodies()
    {
        var bodies = new byte[s_errorMessages.Length][];
        for (var i = 0; i < bodies.Length; i++)
        {
            bodies[i] = EncodeError((EngineErrorCode)i, s_errorMessages[i]);
        }

        return bodies;
    }

    private static byte[] EncodeError(EngineErrorCode code, string message)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("code", (int)code);
            json.WriteString("message", message);
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static void ApplyCors(HttpContext context, EngineIOCorsOptions cors)
    {
        var request = context.Request;
        var headers = context.Response.Headers;
        var origin = request.Headers.Origin.ToString();
        var any = cors.Origins.Contains("*");
        if (any && !cors.Credentials)
        {
            headers.AccessControlAllowOrigin = "*";
        }
        else if (origin.Length > 0 && origin != "null" && (any || cors.Origins.Contains(origin)))
        {
            headers.AccessControlAllowOrigin = origin;
            headers.Vary = HeaderNames.Origin;
        }
        else
        {
            return;
        }

        if (cors.Credentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            headers.AccessControlAllowMethods = "GET,HEAD,PUT,PATCH,POST,DELETE";
            headers.AccessControlAllowHeaders = cors.AllowedHeaders.Count > 0
                ? string.Join(',', cors.AllowedHeaders)
                : request.Headers.AccessControlRequestHeaders;
            if (cors.MaxAge is { } maxAge)
            {
                headers.AccessControlMaxAge = ((long)maxAge.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }

    private void SetCookie(HttpContext context, string sid)
    {
        if (Options.Cookie is not { } cookie)
        {
            return;
        }

        context.Response.Cookies.Append(cookie.Name, sid, new CookieOptions
        {
            Path = cookie.Path,
            HttpOnly = cookie.HttpOnly,
            SameSite = cookie.SameSite,
            Secure = cookie.Secure,
        });
    }
}
