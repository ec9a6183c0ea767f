namespace Gateway.Licensing.Sessions;

/// <summary>
/// Whether the store answered lately. Flipped by failed and successful store calls, so the outage
/// policy can act on the fast path without waiting for a timeout of its own.
/// </summary>
public sealed class StoreHealth
{
    private volatile bool _unavailable;

    public bool IsUnavailable => _unavailable;

    public void ReportFailure() => _unavailable = true;

    public void ReportSuccess() => _unavailable = false;
}
