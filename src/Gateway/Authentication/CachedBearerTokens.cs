using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// The proxy's fast path to a caller's principal: a bearer token that JwtBearer already validated
/// and that has not expired is found in the scheme's <see cref="ValidatedTokenCache"/> directly,
/// without running the authentication handler (which copies the validation parameters and builds
/// a new ticket on every request). Any other request, including one with a token never seen or
/// since expired, goes through JwtBearer as usual, which fills the cache.
/// </summary>
internal sealed class CachedBearerTokens(IOptionsMonitor<JwtBearerOptions> options)
{
    private const string BearerPrefix = "Bearer ";
    private Caches? _current;

    public bool TryGetPrincipal(HttpRequest request, out SharedPrincipal principal)
    {
        principal = null!;
        // The same reading of the header as JwtBearer's: one value, "Bearer " in any case, trimmed.
        var authorization = request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } value
            || !value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)) return false;
        var token = value.AsSpan(BearerPrefix.Length).Trim();
        if (token.IsEmpty) return false;

        foreach (var cache in CurrentCaches())
        {
            if (cache.TryGetPrincipal(token, out principal)) return true;
        }
        return false;
    }

    /// <summary>The caches of the current options instance; looked up again only after a configuration reload.</summary>
    private ValidatedTokenCache[] CurrentCaches()
    {
        var source = options.Get(JwtBearerDefaults.AuthenticationScheme);
        var current = Volatile.Read(ref _current);
        if (current is null || !ReferenceEquals(current.Source, source))
        {
            current = new Caches(source, source.TokenHandlers.OfType<ValidatedTokenCache>().ToArray());
            Volatile.Write(ref _current, current);
        }
        return current.Handlers;
    }

    private sealed record Caches(JwtBearerOptions Source, ValidatedTokenCache[] Handlers);
}
