using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// The gateway's own settings of bearer validation, bound from the same section as JwtBearer's keys
/// (<c>Authentication:Schemes:Bearer</c>): how often an identity provider's signing keys are fetched, and
/// how many validated tokens a replica remembers.
/// </summary>
public sealed class BearerTokenOptions
{
    public const string SectionName = "Authentication:Schemes:Bearer";

    /// <summary>
    /// Default <c>00:00:20</c>, between 1 second and 1 hour; unused with static signing keys. The identity
    /// provider's keys (<c>Authority</c>) are fetched at start and then at this interval: a new key is
    /// accepted, and a key the provider no longer publishes refused (also for tokens validated before),
    /// within this interval plus the fetch. A token naming an unknown key also triggers a fetch, at most one
    /// every 5 seconds.
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Default <c>10000</c>, from 0 (every request validates its token in full) to 1,000,000. Size it to
    /// the tokens a replica sees within their lifetime: the users it serves, times the tokens each holds at
    /// once. Tokens beyond it are validated in full on every request, which costs more CPU than the rest
    /// of the gateway's work on a request. An entry keeps the token and its claims: about 1.6 kB
    /// for a 250-character token with seven claims, so the default holds about 16 MB of such tokens.
    /// </summary>
    public int ValidatedTokenCacheSize { get; set; } = 10_000;
}

internal sealed class BearerTokenOptionsValidator : IValidateOptions<BearerTokenOptions>
{
    public static readonly TimeSpan MinKeyRefreshInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxKeyRefreshInterval = TimeSpan.FromHours(1);
    public const int MaxValidatedTokenCacheSize = 1_000_000;

    public ValidateOptionsResult Validate(string? name, BearerTokenOptions options)
    {
        var failures = new List<string>();
        if (options.KeyRefreshInterval < MinKeyRefreshInterval || options.KeyRefreshInterval > MaxKeyRefreshInterval)
            failures.Add($"{BearerTokenOptions.SectionName}:KeyRefreshInterval must be between {MinKeyRefreshInterval:c} and {MaxKeyRefreshInterval:c} (was {options.KeyRefreshInterval:c}).");
        if (options.ValidatedTokenCacheSize is < 0 or > MaxValidatedTokenCacheSize)
            failures.Add($"{BearerTokenOptions.SectionName}:ValidatedTokenCacheSize must be between 0 and {MaxValidatedTokenCacheSize} (was {options.ValidatedTokenCacheSize}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
