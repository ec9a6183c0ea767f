using System.Security.Claims;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Gateway.Identity;

/// <summary>
/// Resolves the session identity (tenant, user, client kind, device) of an authenticated request
/// (SPEC §2). Every value is checked with <see cref="IdentityRules"/> before it can reach a store key.
/// </summary>
internal sealed class IdentityResolver(IOptionsMonitor<LicensingOptions> options)
{
    public const string ClientKindHeader = "X-Client-Kind";
    private const string BrowserUserAgentPrefix = "Mozilla/";

    private IdentitySettings? _settings;

    /// <summary>The compiled settings; rebuilt only when the options instance changes (a configuration reload).</summary>
    internal IdentitySettings Settings
    {
        get
        {
            var current = options.CurrentValue;
            var settings = Volatile.Read(ref _settings);
            if (settings is null || !ReferenceEquals(settings.Source, current))
            {
                settings = new IdentitySettings(current);
                Volatile.Write(ref _settings, settings);
            }
            return settings;
        }
    }

    /// <param name="mintDeviceCookie">
    /// Whether a web client without a device may be given a new <c>seat-device</c> cookie. False when
    /// the request only looks up an existing session (a <c>Release</c> route, the management API's
    /// "current session"): then nothing is written to the response, and a browser without the cookie
    /// resolves to no identity.
    /// </param>
    public IdentityResolution Resolve(HttpContext context, ClaimsPrincipal principal, bool mintDeviceCookie = true)
    {
        var settings = Settings;

        string tenant;
        switch (ReadClaim(principal, settings.TenantClaim, out var tenantClaim))
        {
            case ClaimRead.Found when IdentityRules.IsValidTenant(tenantClaim):
                tenant = tenantClaim;
                break;
            case ClaimRead.Found:
            case ClaimRead.Ambiguous:
                return IdentityResolution.Invalid("The tenant claim of the token is malformed.");
            default:
                if (settings.DefaultTenant is null) return IdentityResolution.Incomplete("The token carries no tenant.");
                tenant = settings.DefaultTenant;
                break;
        }

        string user;
        ClientKind kind;
        switch (ReadClaim(principal, settings.UserClaim, out var userClaim))
        {
            case ClaimRead.Found when IdentityRules.IsValidId(userClaim):
                user = userClaim;
                if (!TryGetClientKind(context.Request.Headers, out kind))
                    return IdentityResolution.Invalid($"The {ClientKindHeader} header must be desktop, web or mobile.");
                break;
            case ClaimRead.Found:
            case ClaimRead.Ambiguous:
                return IdentityResolution.Invalid("The user claim of the token is malformed.");
            default:
                // A token without the user claim is a service identity: its client id is the user.
                switch (ReadClaim(principal, settings.ClientIdClaim, out var clientId))
                {
                    case ClaimRead.Found when IdentityRules.IsValidId(clientId):
                        user = clientId;
                        kind = ClientKind.Service;
                        break;
                    case ClaimRead.Found:
                    case ClaimRead.Ambiguous:
                        return IdentityResolution.Invalid("The client id claim of the token is malformed.");
                    default:
                        return IdentityResolution.Incomplete("The token carries neither a user nor a client id.");
                }
                break;
        }

        foreach (var source in settings.DeviceSources)
        {
            string? device;
            switch (source.Kind)
            {
                case DeviceSourceKind.Claim:
                    var read = ReadClaim(principal, source.Name, out var claim);
                    if (read == ClaimRead.Ambiguous) return InvalidDevice(source);
                    device = read == ClaimRead.Found ? claim : null;
                    break;
                case DeviceSourceKind.Header:
                    var values = context.Request.Headers[source.Name];
                    if (values.Count > 1) return InvalidDevice(source);
                    device = values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
                    break;
                case DeviceSourceKind.Cookie:
                    device = context.Request.Cookies[source.Name];
                    if (string.IsNullOrEmpty(device))
                    {
                        device = null;
                        if (kind == ClientKind.Web && source.IsGatewayCookie)
                        {
                            // An enforced request would be given a new device here, so a browser
                            // without the cookie has no session yet: nothing later in the list applies.
                            if (!mintDeviceCookie) return IdentityResolution.Incomplete("This browser has no device cookie yet, so no session.");
                            device = DeviceCookie.Mint();
                            DeviceCookie.SetOnResponse(context, device);
                        }
                    }
                    break;
                default:
                    device = ClientFingerprint.Compute(context.Request.Headers.UserAgent.ToString(), context.Connection.RemoteIpAddress);
                    break;
            }

            if (device is null) continue;
            if (!IdentityRules.IsValidId(device)) return InvalidDevice(source);
            return IdentityResolution.Of(new SessionIdentity(tenant, user, kind, device));
        }

        return IdentityResolution.Invalid("No device id: none of the configured device sources yielded a value.");
    }

    private static IdentityResolution InvalidDevice(DeviceSource source) =>
        IdentityResolution.Invalid(source.Kind == DeviceSourceKind.Header
            ? $"The {source.Name} header must hold one device id of 1-128 printable ASCII characters."
            : "The device id is malformed.");

    /// <summary>The declared kind (<c>X-Client-Kind</c>), else <c>web</c> for a browser User-Agent, else <c>desktop</c>.</summary>
    private static bool TryGetClientKind(IHeaderDictionary headers, out ClientKind kind)
    {
        var declared = headers[ClientKindHeader];
        if (declared.Count > 0)
        {
            kind = default;
            return declared.Count == 1 && ClientKindNames.TryParseDeclared(declared[0], out kind);
        }
        var userAgent = headers.UserAgent;
        kind = userAgent.Count > 0 && userAgent[0] is { } ua && ua.StartsWith(BrowserUserAgentPrefix, StringComparison.Ordinal)
            ? ClientKind.Web
            : ClientKind.Desktop;
        return true;
    }

    private enum ClaimRead : byte { Missing, Found, Ambiguous }

    /// <summary>Reads a claim that must have one value; several distinct values are ambiguous.</summary>
    private static ClaimRead ReadClaim(ClaimsPrincipal principal, string type, out string value)
    {
        string? found = null;
        foreach (var identity in principal.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (!string.Equals(claim.Type, type, StringComparison.Ordinal)) continue;
                if (found is not null && !string.Equals(found, claim.Value, StringComparison.Ordinal))
                {
                    value = "";
                    return ClaimRead.Ambiguous;
                }
                found = claim.Value;
            }
        }
        value = found ?? "";
        return found is null ? ClaimRead.Missing : ClaimRead.Found;
    }
}
