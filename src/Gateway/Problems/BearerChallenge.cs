using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Gateway.Problems;

/// <summary>
/// The bearer challenge with a problem+json body. JwtBearer's own challenge writes the status and the
/// <c>WWW-Authenticate: Bearer</c> header (with <c>error="invalid_token"</c> when a token was refused)
/// but no body; this runs it unchanged and then writes the body: <c>token-missing</c> when the request
/// carried no bearer token, <c>token-invalid</c> when it carried one that failed validation. When the
/// host's <c>JwtBearerEvents.OnChallenge</c> answered the request itself, nothing is added.
/// </summary>
internal static class BearerChallenge
{
    public const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    public static async Task ChallengeAsync(HttpContext context, string scheme = Scheme)
    {
        // The handler caches its result per request: this reads what the licensing step or the
        // authorization middleware already found, without validating the token again.
        var result = await context.AuthenticateAsync(scheme).ConfigureAwait(false);
        await context.ChallengeAsync(scheme).ConfigureAwait(false);
        var response = context.Response;
        if (response.HasStarted || response.StatusCode != StatusCodes.Status401Unauthorized || response.ContentType is not null) return;
        await (result.Failure is null ? GatewayProblems.TokenMissing(context) : GatewayProblems.TokenInvalid(context)).ConfigureAwait(false);
    }
}
