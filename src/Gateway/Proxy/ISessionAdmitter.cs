using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;

namespace Gateway.Proxy;

/// <summary>
/// The engine's <see cref="SessionAdmitter"/> as the licensing step uses it. The engine's class is
/// sealed and needs a store; this seam lets the step be tested on its own with a stand-in.
/// </summary>
internal interface ISessionAdmitter
{
    /// <inheritdoc cref="SessionAdmitter.AdmitAsync(SessionIdentity, string, long)"/>
    ValueTask<AdmissionDecision> AdmitAsync(SessionIdentity identity, string sessionId, long origin);

    /// <inheritdoc cref="SessionAdmitter.ReleaseAsync(SessionIdentity)"/>
    Task<bool> ReleaseAsync(SessionIdentity identity);
}

/// <summary>The licensing step's admitter: the engine's, unchanged.</summary>
internal sealed class EngineSessionAdmitter(SessionAdmitter admitter) : ISessionAdmitter
{
    public ValueTask<AdmissionDecision> AdmitAsync(SessionIdentity identity, string sessionId, long origin) =>
        admitter.AdmitAsync(identity, sessionId, origin);

    public Task<bool> ReleaseAsync(SessionIdentity identity) => admitter.ReleaseAsync(identity);
}
