using Gateway.Problems;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

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
            .PostConfigure<TimeProvider, ILoggerFactory, IOptions<BearerTokenOptions>>(RefreshKeysAndCacheTokens)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JwtBearerOptions>, BearerOptionsValidator>());
        services.AddOptions<BearerTokenOptions>().BindConfiguration(BearerTokenOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BearerTokenOptions>, BearerTokenOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SigningKeyRefresher>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CachedBearerTokens>();
        services.AddAuthorization();
        // The challenge and forbid of the authorization middleware carry a problem+json body.
        services.Replace(ServiceDescriptor.Singleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>());
        return services;
    }

    /// <summary>
    /// Runs after ASP.NET's own post-configuration (which derives the metadata address from
    /// <c>Authority</c>): the keys of an identity provider come from <see cref="DiscoveredSigningKeys"/>
    /// instead of ASP.NET's configuration manager; the configured static keys are read from configuration
    /// once (ASP.NET reads them lazily, on every validation); tokens that passed validation are remembered
    /// until they expire or their key is no longer published, and a token with a <c>crit</c> header is refused.
    /// </summary>
    private static void RefreshKeysAndCacheTokens(
        JwtBearerOptions options, TimeProvider time, ILoggerFactory loggers, IOptions<BearerTokenOptions> bearer)
    {
        if (options.ConfigurationManager is ConfigurationManager<OpenIdConnectConfiguration> && !string.IsNullOrEmpty(options.MetadataAddress))
        {
            var client = new HttpClient(options.BackchannelHttpHandler ?? new HttpClientHandler())
            {
                Timeout = options.BackchannelTimeout,
                MaxResponseContentBufferSize = 1024 * 1024,
            };
            options.ConfigurationManager = new DiscoveredSigningKeys(
                options.MetadataAddress,
                new HttpDocumentRetriever(client) { RequireHttps = options.RequireHttpsMetadata },
                time,
                loggers.CreateLogger<DiscoveredSigningKeys>(),
                ownedClient: client);
        }
        var discovered = options.ConfigurationManager as DiscoveredSigningKeys;

        var parameters = options.TokenValidationParameters;
        try
        {
            parameters.IssuerSigningKeys = parameters.IssuerSigningKeys?.ToArray();
        }
        catch (InvalidOperationException)
        {
            // Two keys for one issuer: left as is, so the options validator names the key.
        }
        var staticKeys = parameters.IssuerSigningKeys as IReadOnlyCollection<Microsoft.IdentityModel.Tokens.SecurityKey>;
        for (var i = 0; i < options.TokenHandlers.Count; i++)
        {
            if (options.TokenHandlers[i] is not ValidatedTokenCache)
                options.TokenHandlers[i] = new ValidatedTokenCache(
                    options.TokenHandlers[i], time, bearer.Value.ValidatedTokenCacheSize, keys: discovered, staticKeys: staticKeys);
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
