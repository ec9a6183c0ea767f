using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Authentication;

/// <summary>
/// Remembers tokens that passed validation until they expire, so the steady path of a session does
/// not re-check the same signature on every request (it was the largest cost per proxied request).
/// Keyed by the whole token: any other token, even one differing in a single character, is
/// validated in full. Bounded; never keeps a token past its own expiry (the clock skew is not
/// granted to cached tokens), and holds at most <paramref name="capacity"/> tokens
/// (<see cref="BearerTokenOptions.ValidatedTokenCacheSize"/>) of at most 4 kB. An entry keeps the token
/// (as ASCII bytes), its claims, its expiry and its key, not the validation result (<see cref="Entry"/>).
/// One cache per options instance, so a configuration reload starts empty.
/// <para>With an identity provider's keys (<paramref name="keys"/>), an entry also remembers the key that
/// validated it and the version of the key set it was checked against: when the provider's keys change,
/// an entry is kept only while its key is still published (looked up once per entry and key change; on
/// the steady path the cost is one version comparison). A token whose key the provider dropped is then
/// validated in full again, and refused. Static keys from configuration never go stale.</para>
/// <para>A token whose JWS header has <c>crit</c> is refused: the gateway understands no extension.</para>
/// </summary>
internal sealed class ValidatedTokenCache(
    TokenHandler inner,
    TimeProvider time,
    int capacity,
    DiscoveredSigningKeys? keys = null,
    IReadOnlyCollection<SecurityKey>? staticKeys = null) : TokenHandler
{
    /// <summary>The version of an entry validated by a static key: it never goes stale.</summary>
    private const int StaticKey = -1;

    /// <summary>Longer tokens are validated every time: with the capacity, they bound the cache's memory.</summary>
    public const int MaxCachedTokenLength = 4096;

    // Keyed by the token's ASCII bytes (AsciiTokenComparer); found by the header's characters without a copy.
    private readonly ConcurrentDictionary<byte[], Entry> _entries = new(AsciiTokenComparer.Instance);

    private ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<char>> ByToken => _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    private long _lastTrimTicks;

    // Kept alongside the dictionary: ConcurrentDictionary.Count takes every lock of the dictionary,
    // which made concurrent validations of new tokens wait for each other.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The most tokens this cache holds at once.</summary>
    public int Capacity => capacity;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (ByToken.TryGetValue(token, out var cachedKey, out var cached))
        {
            if (now < cached.ValidTo && KeyStillPublished(cached)) return cached.ResultFor(inner.ReadToken(token));
            Remove(cachedKey);
        }

        var result = await inner.ValidateTokenAsync(token, validationParameters).ConfigureAwait(false);
        if (!result.IsValid) return result;
        if (result.SecurityToken is JsonWebToken jwt && jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return new TokenValidationResult
            {
                IsValid = false,
                Exception = new SecurityTokenException("The token's JWS header marks an extension as critical (crit); the gateway understands none."),
            };
        }
        if (token.Length <= MaxCachedTokenLength && result.SecurityToken?.ValidTo is { } validTo && validTo > now
            && KeyVersionOf(result.SecurityToken.SigningKey) is { } version)
        {
            if (Count >= capacity) Trim(now);
            if (Count < capacity && AsciiTokenComparer.KeyOf(token) is { } key
                && _entries.TryAdd(key, new Entry(result, validTo, version))) Interlocked.Increment(ref _count);
        }
        return result;
    }

    /// <summary>
    /// The version to remember with a token validated by <paramref name="key"/>; null when the token must
    /// not be cached (its key was dropped while it was being validated).
    /// </summary>
    private int? KeyVersionOf(SecurityKey? key)
    {
        if (keys is null || (key is not null && staticKeys is not null && staticKeys.Contains(key))) return StaticKey;
        return key is not null && keys.Current is { } current && current.Contains(key) ? current.Version : null;
    }

    /// <summary>Whether the key that validated a cached token is still published; moves the entry to the current version.</summary>
    private bool KeyStillPublished(Entry entry)
    {
        var version = entry.KeyVersion;
        if (version == StaticKey || keys?.Current is not { } current || current.Version == version) return true;
        if (!current.Contains(entry.SigningKey!)) return false;
        entry.KeyVersion = current.Version;
        return true;
    }

    private void Remove(byte[] key)
    {
        if (_entries.TryRemove(key, out _)) Interlocked.Decrement(ref _count);
    }

    /// <summary>
    /// The principal of a token this cache validated and that has not expired, without allocating.
    /// The principal is shared by every request that presents the token, so it must not be changed.
    /// </summary>
    public bool TryGetPrincipal(ReadOnlySpan<char> token, out SharedPrincipal principal)
    {
        if (ByToken.TryGetValue(token, out var cached)
            && time.GetUtcNow().UtcDateTime < cached.ValidTo
            && KeyStillPublished(cached))
        {
            principal = cached.Principal;
            return true;
        }
        principal = null!;
        return false;
    }

    public override Task<TokenValidationResult> ValidateTokenAsync(SecurityToken token, TokenValidationParameters validationParameters) =>
        inner.ValidateTokenAsync(token, validationParameters);

    public override SecurityToken ReadToken(string token) => inner.ReadToken(token);

    private void Trim(DateTime now)
    {
        // A full cache of live tokens is scanned at most once a second, not on every miss.
        var last = Interlocked.Read(ref _lastTrimTicks);
        if (now.Ticks - last < TimeSpan.TicksPerSecond || Interlocked.CompareExchange(ref _lastTrimTicks, now.Ticks, last) != last) return;
        foreach (var (key, entry) in _entries)
        {
            if (now >= entry.ValidTo) Remove(key);
        }
        // Still full of live tokens: those stay until they expire, newer ones are validated in full.
    }

    /// <summary>
    /// What a validated token leaves behind: its claims, its expiry and the key that validated it. Not the
    /// validation result, whose token, claim sets and copy of the validation parameters made an entry
    /// about 4.5 kB; the claims are copied out of the token, so nothing else of it stays reachable.
    /// </summary>
    private sealed class Entry(TokenValidationResult result, DateTime validTo, int keyVersion)
    {
        private int _keyVersion = keyVersion;

        public DateTime ValidTo { get; } = validTo;

        public SecurityKey? SigningKey { get; } = result.SecurityToken?.SigningKey;

        /// <summary>The key set version under which <see cref="SigningKey"/> was last seen published (or <see cref="StaticKey"/>).</summary>
        public int KeyVersion
        {
            get => Volatile.Read(ref _keyVersion);
            set => Volatile.Write(ref _keyVersion, value);
        }

        /// <summary>What JwtBearer builds from a validation result, built once per token.</summary>
        public SharedPrincipal Principal { get; } = new(Detach(result.ClaimsIdentity));

        /// <summary>
        /// A result for JwtBearer from the cached claims and the token read again without validation (JwtBearer
        /// reads the token's times from it). JwtBearer meets a cached token on the management API, and on a
        /// proxied request only when it raced the request that cached the token: the proxy reads
        /// <see cref="Principal"/> directly.
        /// </summary>
        public TokenValidationResult ResultFor(SecurityToken token) => new()
        {
            IsValid = true,
            ClaimsIdentity = (ClaimsIdentity)Principal.Identity!,
            SecurityToken = token,
        };

        // A copy of the claims in an identity of the same kind and settings: the validation's identity refers to
        // the token it came from (and, through it, everything above).
        private static ClaimsIdentity Detach(ClaimsIdentity identity) => identity is CaseSensitiveClaimsIdentity
            ? new CaseSensitiveClaimsIdentity(identity.Claims, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType)
            : new ClaimsIdentity(identity.Claims, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType);
    }
}
