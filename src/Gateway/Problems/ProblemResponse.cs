using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Gateway.Problems;

/// <summary>
/// Writes RFC 9457 <c>application/problem+json</c> answers with <c>type</c>, <c>title</c>,
/// <c>status</c>, <c>detail</c>, <c>code</c> and <c>traceId</c>, plus optional extension members. The one
/// writer of the gateway's problem answers: the proxy's, and through <see cref="ProblemResult"/> the
/// management API's.
/// </summary>
internal static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    public static Task WriteAsync(HttpContext context, int status, string code, string title, string detail) =>
        WriteAsync(context, status, code, title, detail, static (_, _) => { }, (object?)null);

    /// <summary>
    /// Writes a problem built as <see cref="ProblemDetails"/> (the management API's), whose
    /// <c>code</c> is its <c>code</c> extension; other extensions become members, serialized with the
    /// host's JSON options. Its own <c>traceId</c> extension, if any, gives way to the current one.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        var code = CodeOf(problem) ?? throw new ArgumentException("A gateway problem needs a code extension.", nameof(problem));
        var options = context.RequestServices.GetService<IOptions<HttpJsonOptions>>()?.Value.SerializerOptions ?? JsonSerializerOptions.Web;
        return WriteAsync(context, problem.Status ?? StatusCodes.Status500InternalServerError, code, problem.Title ?? "", problem.Detail ?? "",
            static (json, state) =>
            {
                foreach (var (name, value) in state.Problem.Extensions)
                {
                    if (name is "code" or "traceId") continue;
                    json.WritePropertyName(name);
                    if (value is null) json.WriteNullValue();
                    else JsonSerializer.Serialize(json, value, value.GetType(), state.Options);
                }
            },
            (Problem: problem, Options: options));
    }

    /// <summary>
    /// The <c>Retry-After</c> of a problem answer, in whole seconds rounded up and at least 1: the one place
    /// every refusal that asks the client to come back (seats, rate limits, store and provider outages) sets it.
    /// </summary>
    public static void SetRetryAfter(HttpContext context, TimeSpan wait) =>
        context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The <c>code</c> extension of <paramref name="problem"/>, or null when it has none.</summary>
    public static string? CodeOf(ProblemDetails problem) =>
        problem.Extensions.TryGetValue("code", out var code) ? code as string : null;

    public static Task WriteAsync<TState>(
        HttpContext context, int status, string code, string title, string detail,
        Action<Utf8JsonWriter, TState> writeMembers, TState state)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", ProblemCodes.TypeOf(code));
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteString("code", code);
            writeMembers(json, state);
            json.WriteString("traceId", Activity.Current?.Id ?? context.TraceIdentifier);
            json.WriteEndObject();
        }

        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.ContentLength = buffer.WrittenCount;
        response.Headers.CacheControl = "no-store";
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
