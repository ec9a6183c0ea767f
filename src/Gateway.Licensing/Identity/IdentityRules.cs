namespace Gateway.Licensing.Identity;

/// <summary>
/// The shapes of ids the gateway accepts (docs/configuration.md, identity of a request). Anything else is refused before it can reach a
/// store key, so no id is ever escaped or truncated on its way into Redis.
/// </summary>
public static class IdentityRules
{
    /// <summary>Longest tenant id.</summary>
    public const int MaxTenantLength = 64;

    /// <summary>Longest user or device id.</summary>
    public const int MaxIdLength = 128;

    /// <summary><c>^[A-Za-z0-9._-]{1,64}$</c>: safe inside a hash tag and a key name.</summary>
    public static bool IsValidTenant(ReadOnlySpan<char> tenant)
    {
        if (tenant.Length is 0 or > MaxTenantLength) return false;
        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>User and device ids: 1–128 printable ASCII characters (0x20–0x7E).</summary>
    public static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxIdLength) return false;
        foreach (var c in id)
        {
            if (c is < ' ' or > '~') return false;
        }
        return true;
    }
}
