using System.Text.Json;
using ManagementProblems = Gateway.Management.Problems;
using Gateway.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Problems;

/// <summary>
/// The one problem writer: a management API problem and a proxy problem come out of
/// <see cref="ProblemResponse"/> with the same members in the same order and the same headers.
/// </summary>
public sealed class ProblemWriterTests
{
    [Fact]
    public async Task A_management_problem_is_written_like_a_proxy_problem()
    {
        var management = await RunFilterAsync(ManagementProblems.SeatLimitReached(7));
        var proxy = NewContext();
        await GatewayProblems.MethodNotAllowed(proxy);

        var (managementBody, managementMembers) = Read(management);
        var (_, proxyMembers) = Read(proxy);

        Assert.Equal(StatusCodes.Status409Conflict, management.Response.StatusCode);
        Assert.Equal(["type", "title", "status", "detail", "code", "seatLimit", "traceId"], managementMembers);
        Assert.Equal(["type", "title", "status", "detail", "code", "traceId"], proxyMembers);
        Assert.Equal("urn:seat-gateway:problem:seat-limit-reached", managementBody.GetProperty("type").GetString());
        Assert.Equal(409, managementBody.GetProperty("status").GetInt32());
        Assert.Equal(ProblemCodes.SeatLimitReached, managementBody.GetProperty("code").GetString());
        Assert.Equal(7, managementBody.GetProperty("seatLimit").GetInt32());
        Assert.False(string.IsNullOrEmpty(managementBody.GetProperty("traceId").GetString()));
        foreach (var context in new[] { management, proxy })
        {
            Assert.Equal(ProblemResponse.ContentType, context.Response.ContentType);
            Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
            Assert.Equal(context.Response.Body.Length, context.Response.ContentLength);
        }
    }

    [Fact]
    public async Task A_problem_inside_a_typed_union_is_written_by_the_gateway_writer()
    {
        Results<Ok<string>, ProblemHttpResult> union = ManagementProblems.Invalid("limit must be between 1 and 1000.");

        var context = await RunFilterAsync(union);

        var (body, _) = Read(context);
        Assert.Equal(StatusCodes.Status400BadRequest, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.InvalidRequest, body.GetProperty("code").GetString());
        Assert.Equal("limit must be between 1 and 1000.", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Answers_that_are_not_gateway_problems_pass_unchanged()
    {
        Results<Ok<string>, ProblemHttpResult> ok = TypedResults.Ok("fine");
        var codeless = TypedResults.Problem("no code here", statusCode: 400);

        Assert.Same(ok, await FilterAsync(ok));
        Assert.Same(codeless, await FilterAsync(codeless));
    }

    [Fact]
    public async Task The_store_outage_answer_is_a_503_with_its_code()
    {
        var context = NewContext();
        await ManagementProblems.StoreUnavailable().ExecuteAsync(context);

        var (body, _) = Read(context);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.StoreUnavailable, body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_problem_without_a_code_is_refused_by_the_writer()
    {
        var problem = TypedResults.Problem("no code here", statusCode: 400).ProblemDetails;

        await Assert.ThrowsAsync<ArgumentException>(() => ProblemResponse.WriteAsync(NewContext(), problem));
    }

    private static async Task<object?> FilterAsync(object handlerResult)
    {
        var context = NewContext();
        return await ManagementProblems.WrittenByGatewayWriter(
            new DefaultEndpointFilterInvocationContext(context),
            _ => ValueTask.FromResult<object?>(handlerResult));
    }

    private static async Task<HttpContext> RunFilterAsync(object handlerResult)
    {
        var context = NewContext();
        var result = await ManagementProblems.WrittenByGatewayWriter(
            new DefaultEndpointFilterInvocationContext(context),
            _ => ValueTask.FromResult<object?>(handlerResult));
        Assert.IsType<ProblemResult>(result);
        await ((IResult)result!).ExecuteAsync(context);
        return context;
    }

    private static DefaultHttpContext NewContext()
    {
        var services = new ServiceCollection().AddLogging().Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(_ => { });
        return new DefaultHttpContext
        {
            RequestServices = services.BuildServiceProvider(),
            Response = { Body = new MemoryStream() },
        };
    }

    private static (JsonElement Body, string[] Members) Read(HttpContext context)
    {
        var body = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;
        return (body, body.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public void Every_code_is_defined_once_and_spelled_in_lower_kebab_case()
    {
        var codes = typeof(ProblemCodes).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

        Assert.NotEmpty(codes);
        Assert.Equal(codes.Length, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(codes, code => Assert.Matches("^[a-z]+(-[a-z]+)*$", code));
    }

    [Theory]
    [InlineData(0.2, "1")]
    [InlineData(5, "5")]
    [InlineData(5.01, "6")]
    public void Retry_after_is_whole_seconds_rounded_up_and_at_least_one(double seconds, string expected)
    {
        var context = NewContext();
        ProblemResponse.SetRetryAfter(context, TimeSpan.FromSeconds(seconds));
        Assert.Equal(expected, context.Response.Headers.RetryAfter.ToString());
    }
}
