using System.Security.Claims;
using Gateway.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Authentication;

public sealed class ValidatedTokenCacheTests
{
    private static readonly SymmetricSecurityKey Key = new(new byte[32]);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private string Token(TimeSpan lifetime, string subject = "alice") => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("sub", subject)]),
        Issuer = "issuer",
        Audience = "audience",
        IssuedAt = _time.GetUtcNow().UtcDateTime,
        NotBefore = _time.GetUtcNow().UtcDateTime,
        Expires = _time.GetUtcNow().Add(lifetime).UtcDateTime,
        SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
    });

    private TokenValidationParameters Parameters() => new()
    {
        ValidIssuer = "issuer",
        ValidAudience = "audience",
        IssuerSigningKey = Key,
        ClockSkew = TimeSpan.Zero,
        LifetimeValidator = (_, expires, _, _) => expires > _time.GetUtcNow().UtcDateTime,
    };

    [Fact]
    public async Task A_valid_token_is_validated_once_until_it_expires()
    {
        var inner = new CountingHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5));

        Assert.True((await cache.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.True((await cache.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.Equal(1, inner.Calls);

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False((await cache.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.Equal(2, inner.Calls);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Invalid_tokens_and_other_tokens_are_always_validated_in_full()
    {
        var inner = new CountingHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5));
        var tampered = token[..^2] + (token[^2] == 'A' ? "BB" : "AA");

        Assert.True((await cache.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.False((await cache.ValidateTokenAsync(tampered, Parameters())).IsValid);
        Assert.False((await cache.ValidateTokenAsync(tampered, Parameters())).IsValid);
        Assert.Equal(3, inner.Calls);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task The_cache_is_bounded()
    {
        var cache = new ValidatedTokenCache(new CountingHandler(), _time, capacity: 3);
        var tokens = Enumerable.Range(0, 10).Select(i => Token(TimeSpan.FromMinutes(5), $"user{i}")).ToArray();
        foreach (var token in tokens) await cache.ValidateTokenAsync(token, Parameters());
        Assert.Equal(3, cache.Count);
        Assert.Equal(3, tokens.Count(t => cache.TryGetPrincipal(t, out _)));
    }

    [Fact]
    public async Task A_cache_of_size_zero_validates_every_token_in_full()
    {
        var inner = new CountingHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 0);
        var token = Token(TimeSpan.FromMinutes(5), "zero");

        Assert.True((await cache.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.True((await cache.ValidateTokenAsync(token, Parameters())).IsValid);

        Assert.Equal(2, inner.Calls);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGetPrincipal(token, out _));
    }

    [Theory]
    [InlineData(null, 10_000)]
    [InlineData("7", 7)]
    public void The_configured_size_reaches_the_bearer_schemes_caches(string? configured, int expected)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration["Authentication:Schemes:Bearer:ValidIssuer"] = "https://issuer.test";
        builder.Configuration["Authentication:Schemes:Bearer:ValidAudiences:0"] = "gateway";
        builder.Configuration["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = "https://issuer.test";
        builder.Configuration["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(new byte[32]);
        if (configured is not null) builder.Configuration["Authentication:Schemes:Bearer:ValidatedTokenCacheSize"] = configured;
        builder.Services.AddGatewayAuthentication();
        using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);

        var caches = options.TokenHandlers.OfType<ValidatedTokenCache>().ToArray();
        Assert.NotEmpty(caches);
        Assert.All(caches, cache => Assert.Equal(expected, cache.Capacity));
    }

    [Fact]
    public async Task A_full_cache_makes_room_once_its_tokens_expire()
    {
        var cache = new ValidatedTokenCache(new CountingHandler(), _time, capacity: 2);
        await cache.ValidateTokenAsync(Token(TimeSpan.FromMinutes(1), "a"), Parameters());
        await cache.ValidateTokenAsync(Token(TimeSpan.FromMinutes(1), "b"), Parameters());
        _time.Advance(TimeSpan.FromMinutes(2));

        var fresh = Token(TimeSpan.FromMinutes(5), "c");
        await cache.ValidateTokenAsync(fresh, Parameters());

        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGetPrincipal(fresh, out _));
    }

    [Fact]
    public async Task The_principal_of_a_cached_token_is_found_by_the_raw_token_until_it_expires()
    {
        var cache = new ValidatedTokenCache(new CountingHandler(), _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5), "erin");
        Assert.False(cache.TryGetPrincipal(token, out _));

        await cache.ValidateTokenAsync(token, Parameters());

        Assert.True(cache.TryGetPrincipal(("Bearer " + token).AsSpan(7), out var first));
        Assert.True(cache.TryGetPrincipal(token, out var second));
        Assert.Same(first, second);
        Assert.Equal("erin", first.FindFirst("sub")?.Value);
        Assert.False(cache.TryGetPrincipal(token.AsSpan()[..^1], out _));

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(cache.TryGetPrincipal(token, out _));
    }

    private sealed class CountingHandler : TokenHandler
    {
        private readonly JsonWebTokenHandler _inner = new();
        public int Calls;

        public override Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
        {
            Interlocked.Increment(ref Calls);
            return _inner.ValidateTokenAsync(token, validationParameters);
        }
    }
}
