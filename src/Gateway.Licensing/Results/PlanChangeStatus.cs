namespace Gateway.Licensing.Results;

/// <summary>How a plan change ended.</summary>
public enum PlanChangeStatus
{
    /// <summary>The tenant had no plan; it has this one now.</summary>
    Created,

    /// <summary>The tenant's plan was replaced.</summary>
    Updated,

    /// <summary>Nothing changed: more users are active than the new seat limit allows.</summary>
    SeatLimitBelowActiveUsers,

    /// <summary>Nothing changed: the plan comes from configuration, which only configuration changes.</summary>
    ManagedByConfig,
}
