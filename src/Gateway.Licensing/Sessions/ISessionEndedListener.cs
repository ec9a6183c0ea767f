using Gateway.Licensing.Results;

namespace Gateway.Licensing.Sessions;

/// <summary>
/// Told of every session a store operation on this replica ended, before the operation returns, so
/// the replica forgets it before it answers and can tell the others.
/// </summary>
internal interface ISessionEndedListener
{
    void OnSessionsEnded(IReadOnlyList<EndedSession> ended);
}
