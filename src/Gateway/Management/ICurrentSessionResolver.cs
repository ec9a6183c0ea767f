using Gateway.Licensing.Identity;

namespace Gateway.Management;

/// <summary>
/// Resolves the session identity of a request exactly as the proxy does (tenant, user,
/// client kind, device), so <c>DELETE /v1/me/sessions/current</c> ends the very session the caller's
/// proxied requests use. Implemented by the host (its identity resolver) and registered as a
/// singleton; the management API only consumes it.
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item>Returns the identity whose <see cref="SessionIdentity.ComputeSessionId"/> the proxy would
/// compute for this request, or null when the request has no complete, valid identity.</item>
/// <item>Must not write to the response (for example, it must not mint a <c>seat-device</c>
/// cookie: a request without a device cookie has no current web session) and must not call the
/// store.</item>
/// <item>The API ends the session only when the resolved tenant and user are the caller's own, so a
/// faulty resolver can never end another user's session.</item>
/// </list>
/// When no resolver is registered, <c>current</c> answers 404 <c>session-not-found</c>.
/// </remarks>
public interface ICurrentSessionResolver
{
    SessionIdentity? Resolve(HttpContext context);
}
