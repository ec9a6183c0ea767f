namespace Gateway.Licensing.Store;

/// <summary>
/// Runs after an administrative write (plan, activation, swap, ended session) and before it is
/// acknowledged: a store whose own reply does not yet mean "kept" makes the write durable here, or
/// throws <see cref="StoreUnavailableException"/> so the caller answers 503 instead of a 2xx it
/// could not keep. Admissions and touches do not pass through it: a lost session is admitted again
/// on its next request, a lost activation is not.
/// </summary>
public interface IStoreWriteBarrier
{
    /// <summary>Returns once the writes made so far for <paramref name="tenant"/> are durable.</summary>
    Task AfterWriteAsync(string tenant);
}
