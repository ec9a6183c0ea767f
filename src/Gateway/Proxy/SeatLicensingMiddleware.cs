using System.Security.Claims;
using Gateway.Authentication;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;
using Gateway.Management;
using Gateway.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Gateway.Proxy;

/// <summary>
/// The licensing step of the proxy pipeline: strips inbound <c>X-Licensing-*</c> headers,
/// then per the route's mode forwards as is (<c>Off</c>), authenticates and admits the session
/// (<c>Enforce</c>), or forwards and ends the session on success (<c>Release</c>). A bearer token
/// JwtBearer already validated is taken from its cache without running the handler; when that and
/// admission complete synchronously (a session this replica knows), the request goes on without an
/// async state machine. Every admitted request is registered with the <see cref="SessionUseTracker"/>
/// until its response completes, so a WebSocket or a streaming response counts as use of its session
/// while open and is closed when the session ends.
/// </summary>
internal sealed partial class SeatLicensingMiddleware(
    RequestDelegate next,
    ISessionAdmitter admitter,
    SessionUseTracker uses,
    IdentityResolver identities,
    CachedBearerTokens tokens,
    ManagementPath managementPath,
    ILogger<SeatLicensingMiddleware> logger)
{
    private const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>
    /// A proxy endpoint without its licensing metadata (<see cref="SeatLicensingProxyExtensions.WithRouteLicensing"/>
    /// not applied): what a route without <c>Licensing</c> metadata gets, so nothing is forwarded unlicensed by mistake.
    /// </summary>
    private static readonly RouteLicensing Unmarked = new("(unmarked)", LicensingMode.Enforce, tenant: null);

    public Task InvokeAsync(HttpContext context)
    {
        LicensingHeaders.RemoveInbound(context.Request.Headers);

        // Nothing under the management path is ever forwarded, whatever the order of proxy routes.
        if (managementPath.Contains(context.Request.Path))
        {
            LogManagementPathNotForwarded();
            return LicensingProblems.NotFound(context);
        }

        var licensing = context.GetEndpoint()?.Metadata.GetMetadata<RouteLicensing>() ?? Unmarked;
        if (licensing.Mode == LicensingMode.Off)
        {
            LogForwardedUnlicensed(licensing.RouteId);
            return next(context);
        }

        if (tokens.TryGetPrincipal(context.Request, out var cached)) return OnAuthenticated(context, licensing, cached);

        var authentication = context.AuthenticateAsync(Scheme);
        return authentication.IsCompletedSuccessfully
            ? OnAuthenticated(context, licensing, authentication.Result.Principal)
            : AwaitAuthenticationAsync(context, licensing, authentication);
    }

    private async Task AwaitAuthenticationAsync(HttpContext context, RouteLicensing licensing, Task<AuthenticateResult> authentication) =>
        await OnAuthenticated(context, licensing, (await authentication.ConfigureAwait(false)).Principal).ConfigureAwait(false);

    /// <param name="principal">The caller, or null when the request carries no valid bearer token.</param>
    private Task OnAuthenticated(HttpContext context, RouteLicensing licensing, ClaimsPrincipal? principal)
    {
        if (licensing.Mode == LicensingMode.Release) return ForwardReleasing(context, licensing.Tenant, principal);

        if (principal is null)
        {
            LogChallenged();
            return BearerChallenge.ChallengeAsync(context);
        }

        context.User = principal;
        var resolution = identities.Resolve(context, principal, routeTenant: licensing.Tenant);
        if (!resolution.Succeeded)
        {
            LogIdentityRefused(resolution.Problem);
            return LicensingProblems.IdentityRefused(context, resolution);
        }

        var identity = resolution.Identity;
        var admission = admitter.AdmitAsync(identity, resolution.SessionId, ClientOrigin.Of(context));
        return admission.IsCompletedSuccessfully
            ? OnDecided(context, identity.Tenant, admission.Result)
            : AwaitAdmissionAsync(context, identity.Tenant, admission);
    }

    private async Task AwaitAdmissionAsync(HttpContext context, string tenant, ValueTask<AdmissionDecision> admission) =>
        await OnDecided(context, tenant, await admission.ConfigureAwait(false)).ConfigureAwait(false);

    private Task OnDecided(HttpContext context, string tenant, AdmissionDecision decision)
    {
        if (decision.Forward)
        {
            // Admitted, preempted (admitted after ending a borrowed session), or FailOpen during an
            // outage (the engine counts and logs that).
            LicensingHeaders.SetForwarded(context.Request.Headers, decision.SessionId, tenant);
            if (decision.ShadowOf is { } wouldBe) LicensingHeaders.SetShadow(context.Request.Headers, wouldBe);
            if (decision.TracksUse)
            {
                // One 56-byte object per request; the completion callback costs no allocation on a reused
                // connection (Kestrel keeps its callback stack). No lock, no dictionary: see SessionUseTracker.
                var request = new ProxiedRequest(context, uses);
                context.Response.OnCompleted(ProxiedRequest.OnCompleted, request);
                uses.Opened(request, decision);
            }
            return next(context);
        }

        LogRefused(tenant, decision.Outcome);
        return decision.Outcome switch
        {
            AdmissionOutcome.TenantUnlicensed => LicensingProblems.TenantUnlicensed(context),
            AdmissionOutcome.UserInactive => LicensingProblems.UserInactive(context),
            AdmissionOutcome.SeatsExhausted => LicensingProblems.SeatsExhausted(context,
                decision.StoreResult ?? new AdmissionResult { Outcome = decision.Outcome, SessionId = decision.SessionId }),
            AdmissionOutcome.UserSessionsExhausted => LicensingProblems.UserSessionsExhausted(context,
                decision.StoreResult ?? new AdmissionResult { Outcome = decision.Outcome, SessionId = decision.SessionId }),
            _ when decision.SessionCeilingReached => LicensingProblems.SessionCeilingReached(context),
            _ => LicensingProblems.StoreUnavailable(context),
        };
    }

    /// <summary>
    /// A <c>Release</c> route (e.g. logout) is always forwarded: a caller whose token or identity cannot
    /// be read has no session to end, and must still reach the backend (a browser's logout carries no
    /// bearer token). With an identity, its session ends when the backend answers 2xx/3xx.
    /// </summary>
    private Task ForwardReleasing(HttpContext context, string? routeTenant, ClaimsPrincipal? principal)
    {
        if (principal is null)
        {
            LogReleaseWithoutSession("no valid bearer token");
            return next(context);
        }

        context.User = principal;
        var resolution = identities.Resolve(context, principal, mintDeviceCookie: false, routeTenant);
        if (!resolution.Succeeded)
        {
            LogReleaseWithoutSession("no valid identity");
            return next(context);
        }

        var identity = resolution.Identity;
        LicensingHeaders.SetForwarded(context.Request.Headers, resolution.SessionId, identity.Tenant);
        context.Response.OnStarting(SessionRelease.OnResponseStarting, new SessionRelease(context, identity, admitter, logger));
        return next(context);
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Route {RouteId} is not licensed; forwarding without authentication")]
    private partial void LogForwardedUnlicensed(string routeId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "A proxy route matched a path under the management path; answering 404 instead of forwarding")]
    private partial void LogManagementPathNotForwarded();

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "No valid bearer token; challenging")]
    private partial void LogChallenged();

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Identity refused: {Problem}")]
    private partial void LogIdentityRefused(IdentityProblem problem);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Session of tenant {Tenant} refused: {Outcome}")]
    private partial void LogRefused(string tenant, AdmissionOutcome outcome);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Release route forwarded without ending a session: {Reason}")]
    private partial void LogReleaseWithoutSession(string reason);
}
