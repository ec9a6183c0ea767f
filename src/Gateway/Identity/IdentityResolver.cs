using System.Security.Claims;
using Gateway.Authentication;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// Resolves the session identity (tenant, user, client kind, device) of an authenticated request
/// (docs/configuration.md, identity of a request). Every value is checked with <see cref="IdentityRules"/> before it can reach a store key.
/// What depends on the token alone is derived once per cached token (<see cref="SharedPrincipal"/>),
/// and so is the session id of the device that token was last seen with.
/// </summary>
internal sealed class IdentityResolver(IOptionsMonitor<LicensingOptions> options)
{
    public const string ClientKindHeader = "X-Client-Kind";

    /// <summary>The OpenID Connect authorized party: the client a token was issued to, when it has no client-id claim.</summary>
    private const string AuthorizedPartyClaim = "azp";
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
    /// <param name="routeTenant">
    /// The tenant the route names (metadata <c>LicensingTenant</c>), or null: then the token names it
    /// (tenant claim, else <c>Licensing:DefaultTenant</c>). A token whose tenant claim names another
    /// tenant is refused (<c>tenant-mismatch</c>); one without a tenant claim takes the route's.
    /// </param>
    public IdentityResolution Resolve(HttpContext context, ClaimsPrincipal principal, bool mintDeviceCookie = true, string? routeTenant = null)
    {
        var settings = Settings;
        var caller = CallerOf(principal, settings);
        if (caller.Refusal is { } refusal) return refusal;
        string tenant;
        if (routeTenant is not null)
        {
            if (caller.ClaimedTenant is { } claimed && !string.Equals(claimed, routeTenant, StringComparison.Ordinal))
                return IdentityResolution.Mismatch("The token belongs to another tenant than this route.");
            // The config filter validated the route's tenant; one it never saw and found invalid is
            // empty (RouteLicensing.InvalidTenant) and admits nobody.
            if (routeTenant.Length == 0) return IdentityResolution.Mismatch("This route's tenant is misconfigured.");
            tenant = routeTenant;
        }
        else
        {
            if (caller.Tenant is not { } own) return IdentityResolution.Incomplete("The token carries no tenant.");
            tenant = own;
        }
        if (caller.UserRefusal is { } userRefusal) return userRefusal;

        ClientKind kind;
        if (caller.IsService) kind = ClientKind.Service;
        else if (!TryGetClientKind(context.Request.Headers, out kind))
            return IdentityResolution.Invalid($"The {ClientKindHeader} header must be desktop, web or mobile.");

        var sources = settings.DeviceSources;
        for (var i = 0; i < sources.Length; i++)
        {
            var source = sources[i];
            string? device;
            switch (source.Kind)
            {
                case DeviceSourceKind.Claim:
                    var (read, claim) = caller.DeviceClaims[i];
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
                            // Derived, not random: the parallel first requests of one browser (which may
                            // reach different replicas) get one device, one session and one cookie value.
                            device = DeviceCookie.Derive(tenant, caller.User, context.Request.Headers.UserAgent.ToString(), context.Connection.RemoteIpAddress);
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
            return caller.Session(tenant, kind, device);
        }

        return IdentityResolution.Invalid("No device id: none of the configured device sources yielded a value.");
    }

    /// <summary>What the claims say, derived once per cached token and options instance.</summary>
    private static Caller CallerOf(ClaimsPrincipal principal, IdentitySettings settings)
    {
        if (principal is not SharedPrincipal shared) return Caller.Read(principal, settings);
        if (Volatile.Read(ref shared.Derived) is Caller known && ReferenceEquals(known.Settings, settings)) return known;
        var caller = Caller.Read(principal, settings);
        Volatile.Write(ref shared.Derived, caller);
        return caller;
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

    /// <summary>
    /// The tenant and user (or service client) a token names, or why it names none, and the values of
    /// the <c>claim:</c> device sources; plus the session id of the last device seen with the token.
    /// </summary>
    private sealed class Caller
    {
        private static readonly (ClaimRead, string)[] NoDeviceClaims = [];

        private LastSession? _last;

        private Caller(IdentitySettings settings) => Settings = settings;

        public IdentitySettings Settings { get; }

        /// <summary>Why no request of this token has an identity, whatever the route (a malformed tenant claim).</summary>
        public IdentityResolution? Refusal { get; private init; }

        /// <summary>Why the token names no user (checked after the tenant, so a missing tenant is reported first).</summary>
        public IdentityResolution? UserRefusal { get; private init; }

        /// <summary>The token's tenant claim; null when it has none.</summary>
        public string? ClaimedTenant { get; private init; }

        /// <summary>The tenant without a route tenant: the claim, else <c>Licensing:DefaultTenant</c>; null when neither.</summary>
        public string? Tenant { get; private init; }

        public string User { get; private init; } = "";

        /// <summary>
        /// A service identity: a token without the user claim (its client id is the user), or whose user
        /// claim equals its client id (RFC 9068 client-credentials tokens carry <c>sub</c> = the client id).
        /// </summary>
        public bool IsService { get; private init; }

        /// <summary>Per device source (by index): what its claim holds; unused for other kinds of source.</summary>
        public (ClaimRead Read, string Value)[] DeviceClaims { get; private init; } = NoDeviceClaims;

        public static Caller Read(ClaimsPrincipal principal, IdentitySettings settings)
        {
            var tenantId = IdClaims.ReadTenant(principal, settings.TenantClaim);
            if (tenantId.State == TokenIdState.Malformed)
                return Refused(settings, IdentityResolution.Invalid("The tenant claim of the token is malformed."));
            var claimed = tenantId.State == TokenIdState.Valid ? tenantId.Value : null;
            // No tenant claim: the route's tenant, else the default tenant (decided per request).
            var tenant = claimed ?? settings.DefaultTenant;

            var userId = IdClaims.ReadUser(principal, settings.UserClaim, settings.ClientIdClaim);
            var user = userId.State == TokenIdState.Valid ? userId.Value : "";
            // A token without a user claim is a service's (its client id is the user).
            var service = userId.State == TokenIdState.Valid && (userId.FromClientId || IsOwnClient(principal, settings, user));
            var userRefusal = userId switch
            {
                { State: TokenIdState.Malformed, FromClientId: false } => IdentityResolution.Invalid("The user claim of the token is malformed."),
                { State: TokenIdState.Malformed } => IdentityResolution.Invalid("The client id claim of the token is malformed."),
                { State: TokenIdState.Missing } => IdentityResolution.Incomplete("The token carries neither a user nor a client id."),
                _ => (IdentityResolution?)null,
            };
            if (userRefusal is not null) return new Caller(settings) { ClaimedTenant = claimed, Tenant = tenant, UserRefusal = userRefusal };

            var sources = settings.DeviceSources;
            var deviceClaims = NoDeviceClaims;
            for (var i = 0; i < sources.Length; i++)
            {
                if (sources[i].Kind != DeviceSourceKind.Claim) continue;
                if (deviceClaims.Length == 0) deviceClaims = new (ClaimRead, string)[sources.Length];
                var read = IdClaims.Read(principal, sources[i].Name, out var value);
                deviceClaims[i] = (read, value);
            }
            return new Caller(settings) { ClaimedTenant = claimed, Tenant = tenant, User = user, IsService = service, DeviceClaims = deviceClaims };
        }

        /// <summary>The identity for this device, with its session id (hashed again only when the tenant or device changes).</summary>
        public IdentityResolution Session(string tenant, ClientKind kind, string device)
        {
            var identity = new SessionIdentity(tenant, User, kind, device);
            var last = Volatile.Read(ref _last);
            if (last is not null && last.Kind == kind && string.Equals(last.Device, device, StringComparison.Ordinal)
                && string.Equals(last.Tenant, tenant, StringComparison.Ordinal))
                return IdentityResolution.Of(identity, last.SessionId);
            var sessionId = identity.ComputeSessionId();
            Volatile.Write(ref _last, new LastSession(tenant, kind, device, sessionId));
            return IdentityResolution.Of(identity, sessionId);
        }

        private static Caller Refused(IdentitySettings settings, IdentityResolution refusal) => new(settings) { Refusal = refusal };

        /// <summary>Whether the token's client id (the client-id claim, else <c>azp</c>) equals its user.</summary>
        private static bool IsOwnClient(ClaimsPrincipal principal, IdentitySettings settings, string user)
        {
            var read = IdClaims.Read(principal, settings.ClientIdClaim, out var clientId);
            if (read == ClaimRead.Missing) read = IdClaims.Read(principal, AuthorizedPartyClaim, out clientId);
            return read == ClaimRead.Found && string.Equals(clientId, user, StringComparison.Ordinal);
        }

        private sealed record LastSession(string Tenant, ClientKind Kind, string Device, string SessionId);
    }
}
