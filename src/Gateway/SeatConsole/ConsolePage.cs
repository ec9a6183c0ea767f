using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Gateway.Management;
using Microsoft.Net.Http.Headers;

namespace Gateway.SeatConsole;

/// <summary>
/// The seat console's page (docs/console.md): a handful of static files (HTML, ES modules, CSS) embedded in
/// the gateway's assembly and served under <c>{ManagementPath}/console/</c>, so the page needs no CDN and no
/// file on disk. Each answer carries a strict Content-Security-Policy (nothing but the gateway's own scripts,
/// styles and API) and a strong ETag; browsers revalidate (<c>no-cache</c>) and get 304 while the page is unchanged.
/// </summary>
internal static class ConsolePage
{
    private const string ResourcePrefix = "Gateway.SeatConsole.Page.";

    /// <summary>
    /// Only the gateway's own files and API; no inline script or style, no frames, no plugins, and
    /// forms post nowhere else. Inline SVG is built through the DOM, which this allows.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>The names the page is made of (<c>index.html</c>, <c>app.js</c>, ...).</summary>
    public static IEnumerable<string> FileNames => Assets.Keys;

    /// <summary>
    /// Maps <c>{managementPath}/console/</c> (the page), each of its files, and <c>{managementPath}/console</c>
    /// (a redirect to the page, whose links are relative to the trailing slash). Anonymous: the page asks
    /// the console's sign-in who is there. Only on <c>Licensing:ManagementPort</c> when that is set.
    /// </summary>
    public static IEndpointRouteBuilder MapConsolePage(this IEndpointRouteBuilder endpoints, string managementPath)
    {
        var root = managementPath.TrimEnd('/') + "/console";
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        // Routing ignores a trailing slash, so one endpoint answers both: the page, or a redirect to it.
        var index = Assets["index.html"];
        endpoints.MapMethods(root, methods, context =>
            {
                if (context.Request.Path.Value!.EndsWith('/')) return ServeAsync(context, index);
                context.Response.Redirect(context.Request.PathBase.Add(context.Request.Path) + "/" + context.Request.QueryString, permanent: false);
                return Task.CompletedTask;
            })
            .RequireManagementPort().AllowAnonymous().ExcludeFromDescription();
        foreach (var (name, asset) in Assets)
        {
            if (name == "index.html") continue;
            endpoints.MapMethods(root + "/" + name, methods, context => ServeAsync(context, asset))
                .RequireManagementPort().AllowAnonymous().ExcludeFromDescription();
        }
        return endpoints;
    }

    private static Task ServeAsync(HttpContext context, Asset asset)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Revalidate every time (the file names carry no version), answered by a 304 while unchanged.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && IfNoneMatchHolds(v, asset.ETag)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    private static bool IfNoneMatchHolds(string header, string etag)
    {
        foreach (var candidate in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (candidate == "*" || candidate == etag || candidate == "W/" + etag) return true;
        }
        return false;
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsolePage).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            var name = resource[ResourcePrefix.Length..];
            var content = Read(assembly, resource);
            var etag = "\"" + Convert.ToBase64String(SHA256.HashData(content), 0, 18).Replace('+', '-').Replace('/', '_') + "\"";
            assets[name] = new Asset(content, ContentTypeOf(name), etag);
        }
        if (!assets.ContainsKey("index.html")) throw new InvalidOperationException("The console page (index.html) is not embedded in the gateway's assembly.");
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => throw new InvalidOperationException($"The console page holds '{name}', whose type is unknown; name its content type in ConsolePage."),
    };

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
