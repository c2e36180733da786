using System.Collections.Frozen;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Herald.SocketIO.Internal;

/// <summary>
/// The browser client bundle (<see cref="SocketIOOptions.ServeClient"/>): the socket.io-client npm package's
/// <c>dist</c> files embedded in this assembly (ClientBundle/README.md), served as Node's <c>serveClient</c> does.
/// Each file is read once; its brotli and gzip forms are built on first request and kept.
/// </summary>
internal static class ClientBundle
{
    public static readonly string[] Files = ["socket.io.min.js", "socket.io.min.js.map", "socket.io.js", "socket.io.js.map"];

    private static readonly Lazy<FrozenDictionary<string, Entry>> s_entries = new(Load);

    /// <summary>The bundled socket.io-client version (the ETag).</summary>
    public static string Version => s_version.Value;

    private static readonly Lazy<string> s_version = new(() => System.Text.Encoding.UTF8.GetString(Read("version.txt")).Trim());

    public static Task ServeAsync(HttpContext context, string file)
    {
        var entry = s_entries.Value[file];
        var response = context.Response;
        var etag = "\"" + Version + "\"";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            foreach (var value in ifNoneMatch)
            {
                if (value == etag || value == "W/" + etag)
                {
                    response.StatusCode = StatusCodes.Status304NotModified;
                    return Task.CompletedTask;
                }
            }
        }

        response.Headers.CacheControl = "public, max-age=0";
        response.ContentType = entry.IsMap ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8";
        response.Headers.ETag = etag;
        response.Headers.Vary = "Accept-Encoding";
        var body = entry.Raw;
        switch (PickEncoding(context.Request.Headers.AcceptEncoding))
        {
            case "br":
                response.Headers.ContentEncoding = "br";
                body = entry.Brotli.Value;
                break;
            case "gzip":
                response.Headers.ContentEncoding = "gzip";
                body = entry.Gzip.Value;
                break;
        }

        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    /// <summary>br when the client accepts it, else gzip, else none (a q of 0 refuses an encoding).</summary>
    private static string? PickEncoding(StringValues acceptEncoding)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding)
            || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var list))
        {
            return null;
        }

        var gzip = false;
        foreach (var item in list)
        {
            if (item.Quality is 0)
            {
                continue;
            }

            if (item.Value.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                return "br";
            }

            gzip |= item.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        }

        return gzip ? "gzip" : null;
    }

    private static FrozenDictionary<string, Entry> Load()
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            entries[file] = new Entry(Read(file), file.EndsWith(".map", StringComparison.Ordinal));
        }

        return entries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(string file)
    {
        using var stream = typeof(ClientBundle).Assembly.GetManifestResourceStream("Herald.SocketIO.ClientBundle." + file)
            ?? throw new InvalidOperationException($"The embedded client bundle file {file} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] Compress(byte[] raw, bool brotli)
    {
        using var output = new MemoryStream();
        using (Stream compressor = brotli
            ? new BrotliStream(output, CompressionLevel.SmallestSize, leaveOpen: true)
            : new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            compressor.Write(raw);
        }

        return output.ToArray();
    }

    private sealed class Entry(byte[] raw, bool isMap)
    {
        public byte[] Raw { get; } = raw;

        public bool IsMap { get; } = isMap;

        public Lazy<byte[]> Brotli { get; } = new(() => Compress(raw, brotli: true));

        public Lazy<byte[]> Gzip { get; } = new(() => Compress(raw, brotli: false));
    }
}
