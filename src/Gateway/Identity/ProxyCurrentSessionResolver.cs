using Gateway.Licensing.Identity;
using Gateway.Management;

namespace Gateway.Identity;

/// <summary>
/// The management API's view of "this request's session": the same identity the proxy computes,
/// without minting a device cookie (a browser without one has no current session).
/// </summary>
internal sealed class ProxyCurrentSessionResolver(IdentityResolver identities) : ICurrentSessionResolver
{
    public SessionIdentity? Resolve(HttpContext context)
    {
        var resolution = identities.Resolve(context, context.User, mintDeviceCookie: false);
        return resolution.Succeeded ? resolution.Identity : null;
    }
}
