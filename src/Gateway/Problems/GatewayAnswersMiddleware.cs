using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Problems;

/// <summary>
/// Gives every answer the gateway writes itself a problem+json body, and leaves the backends' answers
/// alone: a path no route serves (404 <c>not-found</c>), a method no route serves (405), a forwarding
/// failure YARP reported (502 <c>backend-unreachable</c>, 504 <c>backend-timeout</c>) and an unexpected
/// exception (500 <c>internal-error</c>, logged; the body names no type, frame or token). Runs right
/// after routing. A response already started (a backend's, being copied) is never touched.
/// </summary>
/// <remarks>
/// Cost on the proxy path: when the rest of the pipeline completes asynchronously (every forwarded
/// request does), one async state machine per request, to look at the outcome afterwards.
/// </remarks>
internal sealed partial class GatewayAnswersMiddleware(RequestDelegate next, ILogger<GatewayAnswersMiddleware> logger)
{
    /// <summary>The display name ASP.NET routing gives the endpoint it answers 405 with.</summary>
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            // Nothing matched: neither a proxy route nor one of the gateway's own routes.
            return LicensingProblems.NotFound(context);
        }

        Task task;
        try
        {
            task = next(context);
        }
        catch (Exception ex)
        {
            return OnExceptionAsync(context, ex);
        }
        if (!task.IsCompletedSuccessfully) return AwaitAsync(context, task);
        return AfterNext(context, endpoint);
    }

    private async Task AwaitAsync(HttpContext context, Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OnExceptionAsync(context, ex).ConfigureAwait(false);
            return;
        }
        await AfterNext(context, context.GetEndpoint()).ConfigureAwait(false);
    }

    private static Task AfterNext(HttpContext context, Endpoint? endpoint)
    {
        var response = context.Response;
        if (response.HasStarted) return Task.CompletedTask;

        if (context.Features.Get<IForwarderErrorFeature>() is { } failure) return OnForwarderError(context, failure.Error);

        // The request timeouts middleware answered a route's elapsed timeout with a bare 504.
        if (response.StatusCode == StatusCodes.Status504GatewayTimeout && IsTimeout(context)) return GatewayProblems.BackendTimeout(context);

        if (response.StatusCode == StatusCodes.Status405MethodNotAllowed && endpoint?.DisplayName == MethodNotAllowedEndpoint)
            return GatewayProblems.MethodNotAllowed(context);
        return Task.CompletedTask;
    }

    /// <summary>YARP set a status and wrote nothing: the answer is the gateway's, never the backend's.</summary>
    private static Task OnForwarderError(HttpContext context, ForwarderError error)
    {
        // The client went away: nobody reads an answer.
        if (context.RequestAborted.IsCancellationRequested && context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>() is not { RequestTimeoutToken.IsCancellationRequested: true })
            return Task.CompletedTask;
        return error switch
        {
            ForwarderError.None => Task.CompletedTask,
            ForwarderError.RequestTimedOut => GatewayProblems.BackendTimeout(context),
            _ when IsTimeout(context) => GatewayProblems.BackendTimeout(context),
            ForwarderError.RequestBodyClient or ForwarderError.UpgradeRequestClient => GatewayProblems.RequestBodyUnreadable(context),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.UpgradeRequestCanceled => Task.CompletedTask,
            _ => GatewayProblems.BackendUnreachable(context),
        };
    }

    /// <summary>Whether the route's request timeout (ASP.NET's request timeouts middleware) elapsed.</summary>
    private static bool IsTimeout(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true };

    private Task OnExceptionAsync(HttpContext context, Exception exception)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested && !IsTimeout(context))
        {
            // The client went away; there is nobody to answer.
            LogClientGone();
            return Task.CompletedTask;
        }
        if (context.Response.HasStarted)
        {
            LogFailedAfterStart(exception);
            return Task.FromException(exception);
        }
        if (IsTimeout(context))
        {
            context.Response.Clear();
            return GatewayProblems.BackendTimeout(context);
        }
        LogUnexpected(exception, context.TraceIdentifier);
        context.Response.Clear();
        return GatewayProblems.InternalError(context);
    }

    [LoggerMessage(EventId = 2040, Level = LogLevel.Error, Message = "Unexpected error while serving request {TraceIdentifier}; answered 500 internal-error")]
    private partial void LogUnexpected(Exception exception, string traceIdentifier);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Error, Message = "Unexpected error after the response had started; the connection is aborted")]
    private partial void LogFailedAfterStart(Exception exception);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Debug, Message = "The client went away before the answer was written")]
    private partial void LogClientGone();
}
