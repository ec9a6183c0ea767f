using System.Buffers;
using System.Diagnostics;
using System.Text.Json;

namespace Gateway.Problems;

/// <summary>
/// Writes RFC 9457 <c>application/problem+json</c> answers with <c>type</c>, <c>title</c>,
/// <c>status</c>, <c>detail</c>, <c>code</c> and <c>traceId</c>, plus optional extension members.
/// </summary>
internal static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    public static Task WriteAsync(HttpContext context, int status, string code, string title, string detail) =>
        WriteAsync(context, status, code, title, detail, static (_, _) => { }, (object?)null);

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
