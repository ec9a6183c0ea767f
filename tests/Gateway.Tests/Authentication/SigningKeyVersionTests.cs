using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Authentication;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Authentication;

/// <summary>
/// <see cref="DiscoveredSigningKeys"/> with the validated-token cache, against a scripted discovery
/// document and JWKS: a cached token survives a key change that keeps its key without being validated
/// again, and is dropped (then refused) once its key is gone; a refresh without change keeps the
/// version; refreshes asked for by tokens naming unknown keys are spaced.
/// </summary>
public sealed class SigningKeyVersionTests
{
    private const string Issuer = "https://idp.test/";
    private const string MetadataAddress = Issuer + ".well-known/openid-configuration";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RsaSecurityKey _first = new(RSA.Create(2048)) { KeyId = "first" };
    private readonly RsaSecurityKey _second = new(RSA.Create(2048)) { KeyId = "second" };
    private readonly Documents _documents = new();

    private sealed class Documents : IDocumentRetriever
    {
        public string Jwks = """{"keys":[]}""";
        public int JwksReads;

        public Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            if (address == MetadataAddress) return Task.FromResult($$"""{"issuer":"{{Issuer}}","jwks_uri":"{{Issuer}}jwks"}""");
            Interlocked.Increment(ref JwksReads);
            return Task.FromResult(Volatile.Read(ref Jwks));
        }
    }

    private void Publish(params RsaSecurityKey[] keys)
    {
        var jwks = keys.Select(k =>
        {
            var p = k.Rsa.ExportParameters(false);
            return new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = k.KeyId, ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) };
        });
        Volatile.Write(ref _documents.Jwks, JsonSerializer.Serialize(new { keys = jwks }));
    }

    private string Token(RsaSecurityKey key) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("sub", "alice")]),
        Issuer = Issuer,
        Audience = "api",
        IssuedAt = _time.GetUtcNow().UtcDateTime,
        NotBefore = _time.GetUtcNow().UtcDateTime,
        Expires = _time.GetUtcNow().AddMinutes(30).UtcDateTime,
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
    });

    /// <summary>What JwtBearer passes: the discovered keys of the moment.</summary>
    private TokenValidationParameters Parameters(DiscoveredSigningKeys keys) => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = "api",
        IssuerSigningKeys = keys.Current!.Configuration.SigningKeys,
        LifetimeValidator = (_, expires, _, _) => expires > _time.GetUtcNow().UtcDateTime,
    };

    private DiscoveredSigningKeys Keys() => new(MetadataAddress, _documents, _time, NullLogger.Instance);

    [Fact]
    public async Task A_cached_token_outlives_a_key_change_that_keeps_its_key_and_not_one_that_drops_it()
    {
        using var keys = Keys();
        Publish(_first);
        await keys.RefreshAsync();
        var inner = new CountingTokenHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 100, keys: keys);
        var token = Token(_first);

        Assert.True((await cache.ValidateTokenAsync(token, Parameters(keys))).IsValid);
        Assert.True(cache.TryGetPrincipal(token, out _));
        var version = keys.Current!.Version;

        await keys.RefreshAsync(); // unchanged: same set, same version
        Assert.Equal(version, keys.Current!.Version);

        Publish(_first, _second); // rotation: a new key beside the old one
        await keys.RefreshAsync();
        Assert.Equal(version + 1, keys.Current!.Version);
        Assert.True(cache.TryGetPrincipal(token, out _));
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(keys))).IsValid);
        Assert.Equal(1, inner.Calls); // still the first validation

        Publish(_second); // the old key is removed
        await keys.RefreshAsync();
        Assert.False(cache.TryGetPrincipal(token, out _));
        Assert.False((await cache.ValidateTokenAsync(token, Parameters(keys))).IsValid);
        Assert.Equal(2, inner.Calls);
        Assert.True((await cache.ValidateTokenAsync(Token(_second), Parameters(keys))).IsValid);
    }

    [Fact]
    public async Task A_key_id_published_again_with_other_material_is_another_key()
    {
        using var keys = Keys();
        Publish(_first);
        await keys.RefreshAsync();
        var cache = new ValidatedTokenCache(new CountingTokenHandler(), _time, capacity: 100, keys: keys);
        var token = Token(_first);
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(keys))).IsValid);

        using var impostor = RSA.Create(2048);
        Publish(new RsaSecurityKey(impostor) { KeyId = _first.KeyId });
        await keys.RefreshAsync();

        Assert.False(cache.TryGetPrincipal(token, out _));
        Assert.False((await cache.ValidateTokenAsync(token, Parameters(keys))).IsValid);
    }

    [Fact]
    public async Task Refreshes_asked_for_by_unknown_key_ids_run_at_most_once_per_5_seconds()
    {
        using var keys = Keys();
        Publish(_first);
        await keys.RefreshAsync();
        var reads = _documents.JwksReads;

        for (var i = 0; i < 50; i++) keys.RequestRefresh();
        await keys.RefreshAsync(); // joins the background refresh, or runs one more
        var afterBurst = _documents.JwksReads - reads;
        Assert.InRange(afterBurst, 1, 2);

        _time.Advance(DiscoveredSigningKeys.OnDemandSpacing - TimeSpan.FromMilliseconds(1));
        var before = _documents.JwksReads;
        keys.RequestRefresh();
        await Task.Delay(200); // a refresh, had one started, would have read the keys by now
        Assert.Equal(before, _documents.JwksReads);

        Publish(_first, _second);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        keys.RequestRefresh();
        for (var i = 0; i < 100 && keys.Current!.Version == 1; i++) await Task.Delay(20);
        Assert.Equal(2, keys.Current!.Version);
    }
}
