namespace Gateway.Licensing.Store;

/// <summary>
/// Registered only for a store whose reply to a write does not yet mean "kept" (the embedded store,
/// which answers before its append-only log is committed). <see cref="DurableWrites"/> passes every
/// admin write through it before the write may be answered 2xx; such a store has no replicas to wait
/// for. Admissions and touches do not pass through it: a lost session is admitted again on its next
/// request, a lost activation is not.
/// </summary>
public interface IStoreWriteBarrier
{
    /// <summary>Returns once everything written so far is durable; throws when it could not be made so.</summary>
    Task AfterWriteAsync();
}
