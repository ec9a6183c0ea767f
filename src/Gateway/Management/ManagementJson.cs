using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Management;

/// <summary>
/// Reads request bodies strictly, so every malformed body is a 400 problem+json rather than an
/// exception: exact camelCase member names, no unknown or duplicate members, no nulls where a
/// value is required, no missing members, numbers as JSON numbers only.
/// </summary>
internal static partial class ManagementJson
{
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    public static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 8,
    };

    /// <summary>Reads and deserializes the body; on any failure returns the 400 to answer instead.</summary>
    public static async Task<(T? Value, ProblemHttpResult? Error)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength is > MaxBodyBytes)
            return (null, Problems.Invalid($"The body is larger than {MaxBodyBytes} bytes."));

        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                    return (null, Problems.Invalid($"The body is larger than {MaxBodyBytes} bytes."));
                buffer.Write(chunk, 0, read);
            }
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException ex)
        {
            return (null, Problems.Invalid("The body could not be read: " + ex.Message));
        }

        if (body.Length == 0) return (null, Problems.Invalid("A JSON body is required."));

        try
        {
            var value = JsonSerializer.Deserialize<T>(body, Strict);
            return value is null ? (null, Problems.Invalid("The body must be a JSON object, not null.")) : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Invalid(Describe(ex)));
        }
        catch (NotSupportedException)
        {
            // The serializer's message names the .NET type it could not build.
            return (null, Problems.Invalid("The body does not have the shape this route takes."));
        }
    }

    /// <summary>
    /// What was wrong, in the API's terms: the serializer's messages name the offending member and
    /// position, but also the gateway's .NET types (<c>System.Int32</c>, <c>Gateway.Management.PlanRequest</c>),
    /// which a client has no use for. Known messages are rephrased; any type name left is replaced.
    /// </summary>
    internal static string Describe(JsonException ex)
    {
        var at = string.IsNullOrEmpty(ex.Path) ? "" : $" (at {ex.Path})";
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];

        string? member;
        if (message.StartsWith("The JSON value could not be converted to", StringComparison.Ordinal))
            message = "a value has the wrong JSON type or is out of range.";
        else if ((member = Quoted(message, "The JSON property '")) is not null && message.Contains("could not be mapped", StringComparison.Ordinal))
            message = $"unknown member '{member}'.";
        else if (message.Contains("missing required properties including:", StringComparison.Ordinal))
            message = "missing member(s) " + message[(message.IndexOf("including:", StringComparison.Ordinal) + "including:".Length)..].Trim().TrimEnd('.') + ".";
        else if (message.Contains("null", StringComparison.OrdinalIgnoreCase) && message.Contains("doesn't allow", StringComparison.Ordinal))
            message = (Quoted(message, "'") is { } nullable ? $"'{JsonNamingPolicy.CamelCase.ConvertName(nullable)}' " : "a member ") + "must not be null.";
        else if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
            message = (Quoted(message, "'") is { } duplicate ? $"member '{duplicate}'" : "a member") + " appears more than once.";
        return "Malformed JSON body" + at + ": " + InternalTypeName().Replace(message, "the expected type");
    }

    /// <summary>The text between <paramref name="prefix"/> and the next <c>'</c>, or null.</summary>
    private static string? Quoted(string message, string prefix)
    {
        var start = message.IndexOf(prefix, StringComparison.Ordinal);
        if (start < 0) return null;
        start += prefix.Length;
        var end = message.IndexOf('\'', start);
        return end > start ? message[start..end] : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"'?\b(?:System|Microsoft|Gateway)(?:\.[A-Za-z_][\w`]*)+(?:\[[^\]]*\])?'?")]
    private static partial System.Text.RegularExpressions.Regex InternalTypeName();
}
