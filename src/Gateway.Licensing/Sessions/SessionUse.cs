namespace Gateway.Licensing.Sessions;

/// <summary>
/// One request forwarded on a locally admitted session, from its admission until its response has
/// completed: for an upgraded connection (WebSocket) or a streaming response, until it closes. While
/// open it is use of its session (<see cref="SessionUseTracker"/>). The host supplies how to close it.
/// </summary>
public abstract class SessionUse
{
    private const int Open = 0, Closed = 1, Aborting = 2, Aborted = 3;

    /// <param name="closesAtOnce">
    /// True for a use that never completes by itself (an upgraded connection): closed as soon as its
    /// session ends. Otherwise it gets <see cref="SessionUseTracker.Grace"/> to complete first.
    /// </param>
    protected SessionUse(bool closesAtOnce) => ClosesAtOnce = closesAtOnce;

    internal bool ClosesAtOnce { get; }

    private int _state;

    internal LocalSessionCache.Entry Entry = null!;

    /// <summary>When the tracker first saw the use (local tick): it was opened at or before then.</summary>
    internal long SeenAt;

    internal bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>Closes the request or connection at once (e.g. aborts the HTTP connection or stream).</summary>
    protected abstract void OnAbort();

    /// <summary>Marks the use closed (its response completed). False when it is being aborted (then only once that is done).</summary>
    internal bool TryClose()
    {
        var state = Interlocked.CompareExchange(ref _state, Closed, Open);
        if (state == Open) return true;
        // The tracker is aborting this very request: wait for it, so the abort can never reach whatever
        // request the host serves next with the same objects (hosts pool them).
        var spin = new SpinWait();
        while (Volatile.Read(ref _state) == Aborting) spin.SpinOnce();
        return false;
    }

    /// <summary>Aborts the use if it is still open; true when this call aborted it.</summary>
    internal bool TryAbort()
    {
        if (Interlocked.CompareExchange(ref _state, Aborting, Open) != Open) return false;
        try
        {
            OnAbort();
        }
        finally
        {
            Volatile.Write(ref _state, Aborted);
        }
        return true;
    }
}
