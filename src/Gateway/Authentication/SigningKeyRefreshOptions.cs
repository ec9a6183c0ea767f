using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// How often the signing keys of <c>Authentication:Schemes:Bearer:Authority</c> are fetched, bound from
/// the same section as JwtBearer's own keys (<c>Authentication:Schemes:Bearer:KeyRefreshInterval</c>).
/// Unused with static signing keys.
/// </summary>
public sealed class SigningKeyRefreshOptions
{
    public const string SectionName = "Authentication:Schemes:Bearer";

    /// <summary>
    /// Default <c>00:00:20</c>, between 1 second and 1 hour. The identity provider's keys are fetched at
    /// start and then at this interval: a new key is accepted, and a key the provider no longer publishes
    /// refused (also for tokens validated before), within this interval plus the fetch. A token naming an
    /// unknown key also triggers a fetch, at most one every 5 seconds.
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(20);
}

internal sealed class SigningKeyRefreshOptionsValidator : IValidateOptions<SigningKeyRefreshOptions>
{
    public static readonly TimeSpan Min = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, SigningKeyRefreshOptions options) =>
        options.KeyRefreshInterval < Min || options.KeyRefreshInterval > Max
            ? ValidateOptionsResult.Fail($"{SigningKeyRefreshOptions.SectionName}:KeyRefreshInterval must be between {Min:c} and {Max:c} (was {options.KeyRefreshInterval:c}).")
            : ValidateOptionsResult.Success;
}
