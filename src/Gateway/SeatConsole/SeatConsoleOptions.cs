using Microsoft.Extensions.Options;

namespace Gateway.SeatConsole;

/// <summary>The <c>Licensing:Console</c> section: the seat console at <c>{ManagementPath}/console/</c> (docs/console.md).</summary>
public sealed class SeatConsoleOptions
{
    public const string SectionName = "Licensing:Console";

    /// <summary>The scopes asked for when <see cref="Scopes"/> is not configured.</summary>
    public static readonly IReadOnlyList<string> DefaultScopes = ["openid", "profile"];

    /// <summary>
    /// Whether the console, its sign-in and its copy of the management API are served. Default: false
    /// (<c>appsettings.Development.json</c> turns it on for the demo).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The OpenID Connect provider the console signs in with (its discovery document is
    /// <c>{Authority}/.well-known/openid-configuration</c>). Default: none; required with <see cref="ClientId"/>.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>
    /// The console's client id at the provider (authorization code with PKCE). Default: none; required when the
    /// console is enabled outside Development. In Development without it, the console signs in demo users
    /// without a provider.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>The client's secret, for a confidential client. Default: none (a public client, PKCE only).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// Scopes asked for at sign-in; a configured list replaces the default (<see cref="DefaultScopes"/>:
    /// <c>openid</c>, <c>profile</c>) rather than appending to it. <c>openid</c> is always asked for.
    /// </summary>
    public string[]? Scopes { get; set; }

    /// <summary>Whether the provider's metadata must come over https. Default: true.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>How long a console sign-in lasts, from the moment it was made (not sliding). Default: 08:00:00; 1 minute to 7 days.</summary>
    public TimeSpan SignInLifetime { get; set; } = TimeSpan.FromHours(8);

    public IReadOnlyList<string> EffectiveScopes => Scopes is { Length: > 0 } configured ? configured : DefaultScopes;

    /// <summary>Whether sign-in goes to an OpenID Connect provider (a client id is configured).</summary>
    public bool UsesProvider => !string.IsNullOrWhiteSpace(ClientId);
}

/// <summary>Checks <c>Licensing:Console</c> at startup; every failure names the key.</summary>
internal sealed class SeatConsoleOptionsValidator(IHostEnvironment environment) : IValidateOptions<SeatConsoleOptions>
{
    public static readonly TimeSpan MinSignInLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxSignInLifetime = TimeSpan.FromDays(7);

    public ValidateOptionsResult Validate(string? name, SeatConsoleOptions options)
    {
        if (!options.Enabled) return ValidateOptionsResult.Success;
        const string p = SeatConsoleOptions.SectionName + ":";
        var failures = new List<string>();
        if (!options.UsesProvider)
        {
            if (!environment.IsDevelopment())
                failures.Add($"{p}ClientId is required when {p}Enabled is true: outside Development the console signs in through an OpenID Connect provider ({p}Authority, {p}ClientId). Set both, or set {p}Enabled to false.");
        }
        else if (string.IsNullOrWhiteSpace(options.Authority))
        {
            failures.Add($"{p}Authority is required with {p}ClientId: the OpenID Connect provider the console signs in with.");
        }
        else if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
        {
            failures.Add($"{p}Authority must be an absolute http or https URL (was '{options.Authority}').");
        }
        else if (authority.Scheme == "http" && options.RequireHttpsMetadata)
        {
            failures.Add($"{p}Authority is plain http while {p}RequireHttpsMetadata is true; use https, or set {p}RequireHttpsMetadata to false (for a provider on loopback only).");
        }
        if (options.SignInLifetime < MinSignInLifetime || options.SignInLifetime > MaxSignInLifetime)
            failures.Add($"{p}SignInLifetime must be between {MinSignInLifetime} and {MaxSignInLifetime:d\\.hh\\:mm\\:ss} (was {options.SignInLifetime}).");
        foreach (var scope in options.Scopes ?? [])
        {
            if (string.IsNullOrWhiteSpace(scope) || scope.Any(char.IsWhiteSpace))
                failures.Add($"{p}Scopes holds '{scope}': a scope is one word without spaces.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
