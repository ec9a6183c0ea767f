namespace Gateway.Licensing.Rules;

/// <summary>
/// Whether a tenant's seats are enforced, or only observed while the gateway is rolled out in front of
/// a live ERP (docs/rollout.md). Written in the API and the store in lower case: <c>enforce</c>, <c>shadow</c>.
/// </summary>
public enum EnforcementMode
{
    /// <summary>Seat refusals and preemptions happen (default).</summary>
    Enforce,

    /// <summary>
    /// Nothing is refused or preempted for seats: what enforcement would have refused is admitted,
    /// counted, audited once per session and marked on the forwarded request.
    /// </summary>
    Shadow,
}

/// <summary>The lower-case names of <see cref="EnforcementMode"/>, as the API and the store write them.</summary>
public static class EnforcementModeNames
{
    /// <summary>The name of <see cref="EnforcementMode.Enforce"/>.</summary>
    public const string Enforce = "enforce";

    /// <summary>The name of <see cref="EnforcementMode.Shadow"/>.</summary>
    public const string Shadow = "shadow";

    /// <summary>The lower-case name of <paramref name="mode"/>.</summary>
    public static string ToName(this EnforcementMode mode) => mode switch
    {
        EnforcementMode.Enforce => Enforce,
        EnforcementMode.Shadow => Shadow,
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>Reads <c>enforce</c> or <c>shadow</c>, exactly as written.</summary>
    public static bool TryParse(string? value, out EnforcementMode mode)
    {
        switch (value)
        {
            case Enforce:
                mode = EnforcementMode.Enforce;
                return true;
            case Shadow:
                mode = EnforcementMode.Shadow;
                return true;
            default:
                mode = default;
                return false;
        }
    }
}
