using Gateway.Licensing.Store;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Routing.Matching;
using Scalar.AspNetCore;

namespace Gateway.Management;

public static class ManagementServiceCollectionExtensions
{
    /// <summary>Name of the OpenAPI document of the management API (served as <c>{managementPath}/openapi/v1.json</c>).</summary>
    public const string DocumentName = "v1";

    /// <summary>
    /// Registers what <see cref="ManagementApi.MapLicensingManagementApi"/> and
    /// <see cref="MapLicensingOpenApi"/> need: authorization, the read side of the store and the
    /// OpenAPI document <c>v1</c>. The licensing engine (<c>AddLicensingEngine</c>), the connection
    /// and the JwtBearer authentication are registered by the host. The host may register an
    /// <see cref="ICurrentSessionResolver"/> for <c>DELETE /v1/me/sessions/current</c>.
    /// </summary>
    public static IServiceCollection AddLicensingManagementApi(this IServiceCollection services)
    {
        services.AddAuthorization();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LicenseQueries>();
        services.TryAddSingleton<AdminChangeLog>();
        services.TryAddSingleton<ManagementOpenApiTransformer>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ManagementPortMatcherPolicy>());
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer<ManagementOpenApiTransformer>();
            options.AddOperationTransformer<ManagementOpenApiTransformer>();
            options.AddSchemaTransformer<ManagementOpenApiTransformer>();
        });
        return services;
    }

    /// <summary>
    /// Serves the OpenAPI document at <c>{managementPath}/openapi/v1.json</c> to anyone, and in the
    /// Development environment an interactive API reference (Scalar) at <c>{managementPath}/docs</c>.
    /// When <c>Licensing:ManagementPort</c> is set, both answer only on that local port.
    /// </summary>
    /// <returns>The document's endpoint, for further conventions.</returns>
    public static IEndpointConventionBuilder MapLicensingOpenApi(this IEndpointRouteBuilder endpoints, string managementPath)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(managementPath);
        var basePath = managementPath.TrimEnd('/');
        var documentPattern = basePath + "/openapi/{documentName}.json";

        var document = endpoints.MapOpenApi(documentPattern)
            .AllowAnonymous()
            .RequireManagementPort();

        if (endpoints.ServiceProvider.GetService<IHostEnvironment>()?.IsDevelopment() == true)
        {
            endpoints.MapScalarApiReference(basePath + "/docs", options => options
                    .WithTitle("Seat gateway management API")
                    .WithOpenApiRoutePattern(documentPattern)
                    .AddDocument(DocumentName))
                .AllowAnonymous()
                .RequireManagementPort();
        }
        return document;
    }

    /// <summary>
    /// When <c>Licensing:ManagementPort</c> is set, the endpoints match only requests that arrived on
    /// that local port; elsewhere they do not exist (404, before authentication). Needs
    /// <see cref="AddLicensingManagementApi"/> (it registers the routing policy).
    /// </summary>
    public static TBuilder RequireManagementPort<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ManagementPortOnlyMetadata.Instance);
}
