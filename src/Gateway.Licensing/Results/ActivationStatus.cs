namespace Gateway.Licensing.Results;

/// <summary>How an activation change (one user, a list, or a swap) ended.</summary>
public enum ActivationStatus
{
    /// <summary>The user record was created by this call.</summary>
    Created,

    /// <summary>The user's state changed (for a list or a swap: every change was applied).</summary>
    Updated,

    /// <summary>The user already had the requested state.</summary>
    Unchanged,

    /// <summary>Nothing changed: activating would exceed the tenant's seat limit.</summary>
    SeatLimitReached,

    /// <summary>Nothing changed: the tenant has no plan.</summary>
    TenantUnlicensed,

    /// <summary>The tenant already holds <c>Licensing:MaxUsersPerTenant</c> users; nothing changed.</summary>
    UserLimitReached,
}
