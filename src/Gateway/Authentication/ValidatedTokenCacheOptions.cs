using Microsoft.Extensions.Options;

namespace Gateway.Authentication;

/// <summary>
/// How many validated bearer tokens one gateway replica remembers, bound from the JwtBearer section
/// (<c>Authentication:Schemes:Bearer:ValidatedTokenCacheSize</c>).
/// </summary>
public sealed class ValidatedTokenCacheOptions
{
    public const string SectionName = SigningKeyRefreshOptions.SectionName;

    /// <summary>
    /// Default <c>10000</c>, from 0 (every request validates its token in full) to 1,000,000. Size it to
    /// the tokens a replica sees within their lifetime: the users it serves, times the tokens each holds at
    /// once. Tokens beyond it are validated in full on every request, which costs more CPU than the rest
    /// of the gateway's work on a request. An entry with its token and claims takes about 6 kB, so the
    /// default holds at most about 60 MB.
    /// </summary>
    public int ValidatedTokenCacheSize { get; set; } = 10_000;
}

internal sealed class ValidatedTokenCacheOptionsValidator : IValidateOptions<ValidatedTokenCacheOptions>
{
    public const int Max = 1_000_000;

    public ValidateOptionsResult Validate(string? name, ValidatedTokenCacheOptions options) =>
        options.ValidatedTokenCacheSize is < 0 or > Max
            ? ValidateOptionsResult.Fail($"{ValidatedTokenCacheOptions.SectionName}:ValidatedTokenCacheSize must be between 0 and {Max} (was {options.ValidatedTokenCacheSize}).")
            : ValidateOptionsResult.Success;
}
