using Gateway.Problems;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

internal static class BearerAuthenticationExtensions
{
    /// <summary>Tolerated clock difference between the token issuer and the gateway.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// JwtBearer bound from the standard <c>Authentication:Schemes:Bearer</c> keys (the ones
    /// <c>dotnet user-jwts</c> writes), hardened: raw claim names, 30 s clock skew, issuer, audience,
    /// lifetime and signature always validated, tokens never saved.
    /// </summary>
    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(Harden); // runs after the configuration binding of the scheme
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .PostConfigure<TimeProvider>(SpeedUpValidation)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JwtBearerOptions>, BearerOptionsValidator>());
        services.TryAddSingleton<CachedBearerTokens>();
        services.AddAuthorization();
        // The challenge and forbid of the authorization middleware carry a problem+json body.
        services.Replace(ServiceDescriptor.Singleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>());
        return services;
    }

    /// <summary>
    /// The configured signing keys are read from configuration once (ASP.NET reads them lazily, on
    /// every validation), and tokens that passed validation are remembered until they expire.
    /// </summary>
    private static void SpeedUpValidation(JwtBearerOptions options, TimeProvider time)
    {
        var parameters = options.TokenValidationParameters;
        try
        {
            parameters.IssuerSigningKeys = parameters.IssuerSigningKeys?.ToArray();
        }
        catch (InvalidOperationException)
        {
            // Two keys for one issuer: left as is, so the options validator names the key.
        }
        for (var i = 0; i < options.TokenHandlers.Count; i++)
        {
            if (options.TokenHandlers[i] is not ValidatedTokenCache) options.TokenHandlers[i] = new ValidatedTokenCache(options.TokenHandlers[i], time);
        }
    }

    private static void Harden(JwtBearerOptions options)
    {
        options.MapInboundClaims = false;
        options.SaveToken = false;
        var parameters = options.TokenValidationParameters;
        parameters.ClockSkew = ClockSkew;
        // The configuration binding turns issuer/audience validation off when none is configured;
        // a licensing gateway must fail closed instead (the validator names the missing key).
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.RequireExpirationTime = true;
        parameters.RequireSignedTokens = true;
        parameters.ValidateIssuerSigningKey = true;
    }
}
