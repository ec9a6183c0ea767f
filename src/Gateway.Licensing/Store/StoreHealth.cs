namespace Gateway.Licensing.Store;

/// <summary>
/// Whether the store answered lately. Flipped by failed and successful store calls, so the outage
/// policy can act on the fast path without waiting for a timeout of its own.
/// </summary>
internal sealed class StoreHealth
{
    private int _unavailable;

    public bool IsUnavailable => Volatile.Read(ref _unavailable) == 1;

    /// <summary>Marks the store unavailable; true when it was available until now.</summary>
    public bool ReportFailure() => Interlocked.Exchange(ref _unavailable, 1) == 0;

    /// <summary>Marks the store available; true when it was unavailable until now.</summary>
    public bool ReportSuccess() => Volatile.Read(ref _unavailable) == 1 && Interlocked.Exchange(ref _unavailable, 0) == 1;
}
