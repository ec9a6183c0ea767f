using Gateway.Licensing.Store;
using Gateway.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using StackExchange.Redis;

namespace Gateway.SeatConsole;

/// <summary>The console's own problem answers, and which failures of its sign-in are whose.</summary>
internal static class ConsoleProblems
{
    public static Task SignInRequired(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, ProblemCodes.SignInRequired,
            "Sign-in required", "The console needs a sign-in: open the console's sign-in page (console/signin) and retry.");

    public static Task StoreUnavailable(HttpContext context)
    {
        ProblemResponse.SetRetryAfter(context, LicensingProblems.StoreRetryAfter);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.StoreUnavailable,
            "Licensing store unavailable", "The console's sign-ins live in the licensing store, which did not answer in time. Retry later.");
    }

    public static Task IdentityProviderUnavailable(HttpContext context)
    {
        ProblemResponse.SetRetryAfter(context, LicensingProblems.StoreRetryAfter);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.IdentityProviderUnavailable,
            "Identity provider unavailable", "The console's identity provider did not answer in time. Retry later.");
    }

    /// <summary>
    /// A sign-in that came back from the provider and could not be completed: a 400 when the request
    /// itself is at fault (no or a stale state, a used or forged code, a refusal at the provider), a 503
    /// when the provider or the store did not answer. Never the handler's unhandled exception (a 500).
    /// </summary>
    public static async Task SignInFailedAsync(RemoteFailureContext context)
    {
        var http = context.HttpContext;
        var log = http.RequestServices.GetRequiredService<ConsoleLog>();
        context.HandleResponse();
        var failure = context.Failure;
        if (IsStoreFailure(failure))
        {
            log.StoreUnavailable(failure!);
            await StoreUnavailable(http).ConfigureAwait(false);
            return;
        }
        if (IsProviderFailure(failure))
        {
            log.ProviderUnavailable(failure!);
            await IdentityProviderUnavailable(http).ConfigureAwait(false);
            return;
        }
        log.SignInFailed(failure?.Message ?? "unknown");
        await ProblemResponse.WriteAsync(http, StatusCodes.Status400BadRequest, ProblemCodes.SignInFailed,
            "Sign-in failed", "The sign-in could not be completed (expired, used twice, or refused by the identity provider). Start again at the console's sign-in page (console/signin).").ConfigureAwait(false);
    }

    /// <summary>The store (Redis or the embedded store) did not answer: somewhere in the exception's causes.</summary>
    public static bool IsStoreFailure(Exception? e) => Causes(e).Any(static c => c is RedisException or StoreUnavailableException);

    /// <summary>
    /// The identity provider did not answer (discovery, keys or token endpoint unreachable or timed out).
    /// An error the provider answered (<see cref="OpenIdConnectProtocolException"/>) is the request's fault.
    /// </summary>
    public static bool IsProviderFailure(Exception? e) =>
        !Causes(e).Any(static c => c is OpenIdConnectProtocolException)
        && Causes(e).Any(static c => c is HttpRequestException or TimeoutException or TaskCanceledException
            || c is InvalidOperationException && c.Message.StartsWith("IDX20803", StringComparison.Ordinal));

    private static IEnumerable<Exception> Causes(Exception? e)
    {
        for (var depth = 0; e is not null && depth < 16; depth++)
        {
            yield return e;
            if (e is AggregateException { InnerExceptions.Count: > 1 } aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Causes)) yield return inner;
                yield break;
            }
            e = e.InnerException;
        }
    }
}

/// <summary>
/// Answers 503 problems instead of a 500 when the console's sign-in cannot reach the store (tickets, key
/// ring) or the identity provider: these failures surface in the authentication middleware, before any
/// endpoint runs. Only for requests under <c>{ManagementPath}/console</c>.
/// </summary>
internal sealed class ConsoleFailureMiddleware(RequestDelegate next, ConsoleLog log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                                  && (ConsoleProblems.IsStoreFailure(e) || ConsoleProblems.IsProviderFailure(e)))
        {
            // Drops anything prepared for the answer, a sign-in cookie included.
            context.Response.Clear();
            if (ConsoleProblems.IsStoreFailure(e))
            {
                log.StoreUnavailable(e);
                await ConsoleProblems.StoreUnavailable(context).ConfigureAwait(false);
            }
            else
            {
                log.ProviderUnavailable(e);
                await ConsoleProblems.IdentityProviderUnavailable(context).ConfigureAwait(false);
            }
        }
    }
}
