using Gateway.Problems;
using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Gateway.Management;

/// <summary>Endpoint metadata: the problem <c>code</c> values a route may answer with <see cref="StatusCode"/>.</summary>
public sealed record ProblemCodesMetadata(int StatusCode, IReadOnlyList<string> Codes);

/// <summary>
/// Endpoint metadata: the route reads a JSON body of <see cref="Type"/> itself (strictly, whatever the
/// Content-Type, so a malformed body is a 400 problem rather than a 415 from routing).
/// </summary>
public sealed record JsonBodyMetadata(Type Type);

internal static class ProblemCodesConventions
{
    /// <summary>Documents the JSON body the handler reads itself.</summary>
    public static RouteHandlerBuilder JsonBody<TBody>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new JsonBodyMetadata(typeof(TBody)));

    /// <summary>Declares a problem+json response and the codes it carries (for the OpenAPI document).</summary>
    public static TBuilder ProblemCodes<TBuilder>(this TBuilder builder, int statusCode, params string[] codes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(
            new ProducesResponseTypeAttribute(typeof(ProblemDetails), statusCode, "application/problem+json"),
            new ProblemCodesMetadata(statusCode, codes));
}

/// <summary>
/// Completes the generated OpenAPI document: bearer security, the problem codes of every response,
/// the 401 challenge of the authenticated routes.
/// </summary>
internal sealed class ManagementOpenApiTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    public const string SecuritySchemeName = "Bearer";

    private static readonly Dictionary<string, string> Explanations = new(StringComparer.Ordinal)
    {
        [ProblemCodes.InvalidRequest] = "malformed JSON, wrong types, nulls, missing or unknown members, unknown model, seat limit or per-user limit out of range, reservedUsers above seatLimit, invalid ids, duplicate users, a swap of a user with itself, bad limit/cursor/since/from/to",
        [ProblemCodes.InvalidIdentity] = "the token's tenant or user id is malformed",
        [ProblemCodes.IdentityIncomplete] = "the token names no tenant (and no default tenant is configured) or no user",
        [ProblemCodes.Forbidden] = "the caller needs license-operator, or license-admin for the tenant of its own token (plan changes: license-operator only)",
        [ProblemCodes.TenantNotFound] = "the tenant has no plan",
        [ProblemCodes.SessionNotFound] = "no such live session (unknown, already ended, malformed id, or not the caller's)",
        [ProblemCodes.SeatLimitReached] = "activating would leave more active users than the seat limit; nothing changed",
        [ProblemCodes.UserLimitReached] = "the change would register more users than one tenant may have (Licensing:MaxUsersPerTenant); nothing changed",
        [ProblemCodes.SeatLimitBelowActiveUsers] = "the new seat limit is below the number of active users; deactivate users first",
        [ProblemCodes.PlanManagedByConfig] = "the tenant's plan comes from configuration (Licensing:Tenants) and cannot be changed through the API",
        [ProblemCodes.StoreUnavailable] = "the licensing store did not answer; retry after Retry-After seconds",
        [ProblemCodes.StoreNotDurable] = "the change was made, but too few store replicas acknowledged it in time, so it may not survive a store failover; read the state again before retrying",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info ??= new OpenApiInfo();
        document.Info.Title = "Seat gateway management API";
        document.Info.Version = "v1";
        document.Info.Description =
            "Administers seats of the licensing gateway. Bearer tokens; roles from the role claim: " +
            "license-operator may do everything, license-admin only for the tenant of its own token. " +
            "JSON is camelCase; every error is application/problem+json with a stable `code` member.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SecuritySchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The same bearer token the gateway accepts for proxied traffic.",
        };
        return Task.CompletedTask;
    }

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= new OpenApiResponses();

        if (metadata.OfType<JsonBodyMetadata>().LastOrDefault() is { } body && context.Document is { } doc)
        {
            var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false);
            doc.AddComponent(body.Type.Name, schema);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference(body.Type.Name, doc) },
                },
            };
        }

        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            if (context.Document is { } document)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(SecuritySchemeName, document)] = [],
                });
            }
            operation.Responses["401"] = new OpenApiResponse
            {
                Description = "No valid bearer token: a WWW-Authenticate: Bearer challenge (error=\"invalid_token\" when a token was refused) " +
                    "and problem details (application/problem+json) with `code`:\n- `token-missing`: no bearer token\n" +
                    "- `token-invalid`: malformed, expired, not yet valid, badly signed, or from another issuer or audience",
            };
        }

        if (metadata.OfType<CsvMetadata>().Any() && operation.Responses.TryGetValue("200", out var okResponse) && okResponse is OpenApiResponse ok)
        {
            ok.Content ??= new Dictionary<string, OpenApiMediaType>();
            ok.Content["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            ok.Description = (ok.Description ?? "OK") + ". With `Accept: text/csv`: a CSV table (RFC 4180, UTF-8, CRLF) with a header row of the " +
                "JSON member names and one row per item; ids a user controls that start with = + - @ get a leading ' (no spreadsheet formulas); " +
                "the next page is in a `Link: <...>; rel=\"next\"` header.";
        }

        // Query values are read as strings so that a bad one is a 400 problem; document their real types.
        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is not OpenApiParameter { In: ParameterLocation.Query, Schema: OpenApiSchema schema } query) continue;
            switch (query.Name)
            {
                case "limit":
                    schema.Type = JsonSchemaType.Integer;
                    schema.Minimum = "1";
                    schema.Maximum = "1000";
                    schema.Default = JsonValue.Create(100);
                    break;
                case "active":
                    schema.Type = JsonSchemaType.Boolean;
                    break;
                case "since":
                    schema.Format = "date-time";
                    break;
                case "from" or "to":
                    schema.Format = "date";
                    break;
            }
        }

        foreach (var group in metadata.OfType<ProblemCodesMetadata>().GroupBy(m => m.StatusCode))
        {
            var codes = group.SelectMany(g => g.Codes).Distinct(StringComparer.Ordinal).ToArray();
            var key = group.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var existing) || existing is not OpenApiResponse response)
            {
                response = new OpenApiResponse();
                operation.Responses[key] = response;
            }
            var text = new StringBuilder("Problem details (application/problem+json) with `code`:");
            foreach (var code in codes)
            {
                text.Append("\n- `").Append(code).Append('`');
                if (Explanations.TryGetValue(code, out var why)) text.Append(": ").Append(why);
            }
            response.Description = text.ToString();
            response.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            response.Extensions["x-problem-codes"] = new JsonNodeExtension(new JsonArray(codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()));
        }
    }

    /// <summary>A property with <see cref="AllowedValuesAttribute"/> is documented as an enum of those values.</summary>
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(AllowedValuesAttribute), inherit: true)
                .OfType<AllowedValuesAttribute>().FirstOrDefault() is { } allowed)
        {
            schema.Enum = allowed.Values.Select(v => (JsonNode)JsonValue.Create(v?.ToString())!).ToList();
        }
        return Task.CompletedTask;
    }
}
