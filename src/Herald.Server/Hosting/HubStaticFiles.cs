using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Herald.Server.Hosting;

/// <summary>
/// The hub's web root as it may be served: the demo pages (<c>index.html</c>, <c>typed.html</c>) only when
/// <c>Herald:Demo:Enabled</c>, the dashboard files (<c>admin/</c>) only when <c>Herald:Admin:Enabled</c>. A page of a
/// feature that is off is a 404, as if it were not there (issue 13: demos off unless asked for).
/// </summary>
internal sealed class HubStaticFiles(IFileProvider inner, bool demo, bool admin) : IFileProvider
{
    private static readonly string[] s_demoPages = ["index.html", "typed.html"];

    public IFileInfo GetFileInfo(string subpath) => IsHidden(subpath) ? new NotFoundFileInfo(subpath) : inner.GetFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath)
        => IsHidden(subpath) ? NotFoundDirectoryContents.Singleton : inner.GetDirectoryContents(subpath);

    public IChangeToken Watch(string filter) => inner.Watch(filter);

    private bool IsHidden(string subpath)
    {
        // Case-insensitive, and with either separator: what a case-insensitive file system would find is hidden too.
        var path = subpath.Replace('\\', '/').TrimStart('/');
        if (!demo && s_demoPages.Any(page => string.Equals(path, page, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return !admin && (string.Equals(path.TrimEnd('/'), "admin", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("admin/", StringComparison.OrdinalIgnoreCase));
    }
}
