namespace Gateway.Licensing.Sessions;

/// <summary>A session a store operation ended, and why.</summary>
public readonly record struct EndedSession(string Tenant, string SessionId, string Reason);

/// <summary>
/// Told of every session a store operation on this replica ended, before the operation returns, so
/// the replica forgets it before it answers and can tell the others.
/// </summary>
public interface ISessionEndedListener
{
    void OnSessionsEnded(IReadOnlyList<EndedSession> ended);
}
