using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// Stops the gateway at start when the bearer scheme could never accept a token, naming the
/// configuration key to set, instead of answering 401 to everyone.
/// </summary>
internal sealed class BearerOptionsValidator : IValidateOptions<JwtBearerOptions>
{
    private const string Section = "Authentication:Schemes:Bearer";

    public ValidateOptionsResult Validate(string? name, JwtBearerOptions options)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme) return ValidateOptionsResult.Skip;

        var parameters = options.TokenValidationParameters;
        var discovers = !string.IsNullOrEmpty(options.Authority) || !string.IsNullOrEmpty(options.MetadataAddress)
            || options.ConfigurationManager is not null || options.Configuration is not null;
        var failures = new List<string>();

        if (!discovers && string.IsNullOrEmpty(parameters.ValidIssuer) && !(parameters.ValidIssuers?.Any() ?? false))
            failures.Add($"{Section}:ValidIssuer (or {Section}:Authority) must be set: tokens are accepted only from a configured issuer.");
        if (string.IsNullOrEmpty(parameters.ValidAudience) && !(parameters.ValidAudiences?.Any() ?? false))
            failures.Add($"{Section}:ValidAudiences must list at least one audience.");
        bool hasKeys;
        try
        {
            // The keys are read from configuration lazily, on this first enumeration.
            hasKeys = parameters.IssuerSigningKeys?.Any() ?? false;
        }
        catch (InvalidOperationException)
        {
            failures.Add($"{Section}:SigningKeys must hold at most one key per issuer (ASP.NET picks a key by its Issuer).");
            return ValidateOptionsResult.Fail(failures);
        }
        if (!discovers && parameters.IssuerSigningKey is null && !hasKeys
            && parameters.IssuerSigningKeyResolver is null)
            failures.Add($"{Section}:SigningKeys (each with Issuer and base64 Value) or {Section}:Authority must be set.");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
