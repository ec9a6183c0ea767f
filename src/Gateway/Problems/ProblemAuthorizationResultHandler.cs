using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Gateway.Problems;

/// <summary>
/// What the authorization middleware answers when a route's policy refuses (the gateway's own routes,
/// and proxy routes with an <c>AuthorizationPolicy</c>): the standard challenge and forbid, with a
/// problem+json body (<c>token-missing</c>, <c>token-invalid</c>, <c>forbidden</c>).
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            var schemes = policy.AuthenticationSchemes;
            if (schemes.Count == 0)
            {
                await BearerChallenge.ChallengeAsync(context).ConfigureAwait(false);
            }
            else
            {
                foreach (var scheme in schemes) await BearerChallenge.ChallengeAsync(context, scheme).ConfigureAwait(false);
            }
            return;
        }
        if (authorizeResult.Forbidden)
        {
            if (policy.AuthenticationSchemes.Count == 0) await context.ForbidAsync().ConfigureAwait(false);
            else foreach (var scheme in policy.AuthenticationSchemes) await context.ForbidAsync(scheme).ConfigureAwait(false);
            if (!context.Response.HasStarted && context.Response.ContentType is null) await GatewayProblems.Forbidden(context).ConfigureAwait(false);
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
    }
}
