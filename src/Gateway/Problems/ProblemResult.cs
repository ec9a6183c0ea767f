using Microsoft.AspNetCore.Mvc;

namespace Gateway.Problems;

/// <summary>
/// A problem answer of an endpoint, written by <see cref="ProblemResponse"/> like every other problem
/// the gateway writes: the management API builds <see cref="Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult"/>s
/// (their types describe the routes in the OpenAPI document), and this result writes them.
/// </summary>
internal sealed class ProblemResult(ProblemDetails problem) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public ProblemDetails Problem { get; } = problem;

    public int? StatusCode => Problem.Status;

    public string ContentType => ProblemResponse.ContentType;

    public Task ExecuteAsync(HttpContext httpContext) => ProblemResponse.WriteAsync(httpContext, Problem);
}
