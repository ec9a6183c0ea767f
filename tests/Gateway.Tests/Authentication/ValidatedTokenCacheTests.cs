using System.Runtime.CompilerServices;
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
        var inner = new CountingTokenHandler();
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
        var inner = new CountingTokenHandler();
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
        var cache = new ValidatedTokenCache(new CountingTokenHandler(), _time, capacity: 3);
        var tokens = Enumerable.Range(0, 10).Select(i => Token(TimeSpan.FromMinutes(5), $"user{i}")).ToArray();
        foreach (var token in tokens) await cache.ValidateTokenAsync(token, Parameters());
        Assert.Equal(3, cache.Count);
        Assert.Equal(3, tokens.Count(t => cache.TryGetPrincipal(t, out _)));
    }

    [Fact]
    public async Task A_cache_of_size_zero_validates_every_token_in_full()
    {
        var inner = new CountingTokenHandler();
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
        var cache = new ValidatedTokenCache(new CountingTokenHandler(), _time, capacity: 2);
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
        var cache = new ValidatedTokenCache(new CountingTokenHandler(), _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5), "erin");
        Assert.False(cache.TryGetPrincipal(token, out _));

        await cache.ValidateTokenAsync(token, Parameters());

        Assert.True(cache.TryGetPrincipal(("Bearer " + token).AsSpan(7), out var first));
        Assert.True(cache.TryGetPrincipal(token, out var second));
        Assert.Same(first, second);
        Assert.Equal("erin", first.FindFirst("sub")?.Value);
        Assert.False(cache.TryGetPrincipal(token.AsSpan()[..^1], out _));
        // The same signature after a different start is another token; so is one with a character outside ASCII.
        Assert.False(cache.TryGetPrincipal((token[0] == 'e' ? "f" : "e") + token[1..], out _));
        Assert.False(cache.TryGetPrincipal(token[..5] + "é" + token[6..], out _));

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(cache.TryGetPrincipal(token, out _));
    }

    [Fact]
    public async Task A_cached_token_keeps_its_claims_and_lets_the_validation_result_go()
    {
        var inner = new CountingTokenHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5), "frank");
        Assert.True(await ValidatesAsync(cache, token));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // The validated token (and with it the result, its claim sets and its copy of the parameters) is gone.
        Assert.False(inner.LastValidated!.TryGetTarget(out _));
        Assert.True(cache.TryGetPrincipal(token, out var principal));
        Assert.Equal("frank", principal.FindFirst("sub")?.Value);
        // Claim types still match case-sensitively, as on the token's own identity.
        Assert.IsType<CaseSensitiveClaimsIdentity>(principal.Identity);
        Assert.Null(principal.FindFirst("SUB"));
    }

    [Fact]
    public async Task JwtBearer_gets_the_cached_claims_and_the_tokens_times_without_a_second_validation()
    {
        var inner = new CountingTokenHandler();
        var cache = new ValidatedTokenCache(inner, _time, capacity: 100);
        var token = Token(TimeSpan.FromMinutes(5), "grace");
        var first = await cache.ValidateTokenAsync(token, Parameters());

        var again = await cache.ValidateTokenAsync(token, Parameters());

        Assert.Equal(1, inner.Calls);
        Assert.True(again.IsValid);
        Assert.True(cache.TryGetPrincipal(token, out var principal));
        Assert.Same(principal.Identity, again.ClaimsIdentity);
        Assert.Equal(first.SecurityToken.ValidTo, again.SecurityToken.ValidTo);
        Assert.Equal(first.SecurityToken.ValidFrom, again.SecurityToken.ValidFrom);
        Assert.Equal(first.ClaimsIdentity.Claims.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)),
            again.ClaimsIdentity.Claims.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)));
    }

    // Its own method, so that no local of the test keeps the validation result alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<bool> ValidatesAsync(ValidatedTokenCache cache, string token) =>
        (await cache.ValidateTokenAsync(token, Parameters())).IsValid;
}
