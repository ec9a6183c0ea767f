using System.Collections.Concurrent;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;

namespace Gateway.Licensing.Tests.Support;

/// <summary>Records every ended session the store reports.</summary>
internal sealed class RecordingListener : ISessionEndedListener
{
    public ConcurrentQueue<EndedSession> Ended { get; } = new();

    public void OnSessionsEnded(IReadOnlyList<EndedSession> ended)
    {
        foreach (var e in ended) Ended.Enqueue(e);
    }

    public IReadOnlyList<string> Reasons(string sessionId) =>
        Ended.Where(e => e.SessionId == sessionId).Select(e => e.Reason).ToArray();
}
