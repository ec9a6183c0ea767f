namespace Gateway.Licensing.Results;

/// <summary>A tenant's seat limit and live counts: what its gauges show.</summary>
internal sealed record TenantSeats(string Tenant, int SeatLimit, int ActiveUsers, int ActiveSessions);
