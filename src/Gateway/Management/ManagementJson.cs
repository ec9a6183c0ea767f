using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Management;

/// <summary>
/// Reads request bodies strictly, so every malformed body is a 400 problem+json rather than an
/// exception: exact camelCase member names, no unknown or duplicate members, no nulls where a
/// value is required, no missing members, numbers as JSON numbers only.
/// </summary>
internal static class ManagementJson
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
        catch (NotSupportedException ex)
        {
            return (null, Problems.Invalid("The body is not valid for this route: " + ex.Message));
        }
    }

    private static string Describe(JsonException ex)
    {
        // The serializer's messages name the offending member and position.
        var path = string.IsNullOrEmpty(ex.Path) ? "" : $" (at {ex.Path})";
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        return "Malformed JSON body" + path + ": " + message;
    }
}
