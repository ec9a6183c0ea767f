namespace Gateway.Licensing.Results;

/// <summary>A session a store operation ended, and why (an <see cref="EndReason"/>).</summary>
internal readonly record struct EndedSession(string Tenant, string SessionId, string Reason);
