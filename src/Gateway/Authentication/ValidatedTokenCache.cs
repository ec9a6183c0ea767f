using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Authentication;

/// <summary>
/// Remembers tokens that passed validation until they expire, so the steady path of a session does
/// not re-check the same signature on every request (it was the largest cost per proxied request).
/// Keyed by the whole token string: any other token, even one differing in a single character, is
/// validated in full. Bounded; never keeps a token past its own expiry (the clock skew is not
/// granted to cached tokens), and holds at most 5,000 tokens of at most 4 kB (an entry with its
/// validated token and claims is several kB). One cache per options instance, so a configuration
/// reload starts empty.
/// </summary>
internal sealed class ValidatedTokenCache(TokenHandler inner, TimeProvider time, int capacity = 5_000) : TokenHandler
{
    /// <summary>Longer tokens are validated every time: with the capacity, they bound the cache's memory.</summary>
    public const int MaxCachedTokenLength = 4096;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _lastTrimTicks;

    // Kept alongside the dictionary: ConcurrentDictionary.Count takes every lock of the dictionary,
    // which made concurrent validations of new tokens wait for each other.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_entries.TryGetValue(token, out var cached))
        {
            if (now < cached.ValidTo) return cached.Result;
            Remove(token);
        }

        var result = await inner.ValidateTokenAsync(token, validationParameters).ConfigureAwait(false);
        if (result.IsValid && token.Length <= MaxCachedTokenLength && result.SecurityToken?.ValidTo is { } validTo && validTo > now)
        {
            if (Count >= capacity) Trim(now);
            if (Count < capacity && _entries.TryAdd(token, new Entry(result, validTo))) Interlocked.Increment(ref _count);
        }
        return result;
    }

    private void Remove(string token)
    {
        if (_entries.TryRemove(token, out _)) Interlocked.Decrement(ref _count);
    }

    /// <summary>
    /// The principal of a token this cache validated and that has not expired, without allocating.
    /// The principal is shared by every request that presents the token, so it must not be changed.
    /// </summary>
    public bool TryGetPrincipal(ReadOnlySpan<char> token, out SharedPrincipal principal)
    {
        if (_entries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(token, out var cached)
            && time.GetUtcNow().UtcDateTime < cached.ValidTo)
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

    private sealed class Entry(TokenValidationResult result, DateTime validTo)
    {
        public TokenValidationResult Result { get; } = result;

        public DateTime ValidTo { get; } = validTo;

        /// <summary>What JwtBearer builds from a validation result, built once per token.</summary>
        public SharedPrincipal Principal { get; } = new(result.ClaimsIdentity);
    }
}
