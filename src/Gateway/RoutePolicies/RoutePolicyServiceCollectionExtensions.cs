using System.Threading.RateLimiting;
using Gateway.Problems;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.RoutePolicies;

internal static class RoutePolicyServiceCollectionExtensions
{
    /// <summary>
    /// The standard middleware services behind a YARP route's <c>RateLimiterPolicy</c>,
    /// <c>TimeoutPolicy</c>/<c>Timeout</c>, <c>CorsPolicy</c> and <c>OutputCachePolicy</c>, with the named
    /// policies of <c>RoutePolicies</c> (validated at start). A rate limiter's refusal and an elapsed
    /// timeout answer problem+json (<c>rate-limited</c>, <c>backend-timeout</c>). Policies an embedding
    /// host registers in code work alongside.
    /// </summary>
    public static IServiceCollection AddRoutePolicies(this IServiceCollection services)
    {
        services.AddOptions<RoutePolicyOptions>().BindConfiguration(RoutePolicyOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RoutePolicyOptions>, RoutePolicyOptionsValidator>());

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RoutePolicyOptions>>(ConfigureRateLimiters);

        services.AddRequestTimeouts(_ => { });
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<RoutePolicyOptions>>(ConfigureTimeouts);

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<RoutePolicyOptions>>(ConfigureCors);

        services.AddOutputCache();
        services.AddOptions<OutputCacheOptions>().Configure<IOptions<RoutePolicyOptions>>(ConfigureOutputCache);
        return services;
    }

    private static void ConfigureRateLimiters(RateLimiterOptions options, IOptions<RoutePolicyOptions> policies)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = static (context, _) =>
        {
            TimeSpan? retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
            return new ValueTask(GatewayProblems.RateLimited(context.HttpContext, retryAfter));
        };
        foreach (var (name, policy) in policies.Value.RateLimiters)
        {
            var byAddress = string.Equals(policy.PartitionBy, RateLimiterPolicyOptions.ByClientAddress, StringComparison.OrdinalIgnoreCase);
            var kind = policy.Kind;
            options.AddPolicy(name, context =>
            {
                var key = byAddress ? context.Connection.RemoteIpAddress?.ToString() ?? "" : "";
                return Partition(kind, key, policy);
            });
        }
    }

    private static RateLimitPartition<string> Partition(string kind, string key, RateLimiterPolicyOptions policy)
    {
        const QueueProcessingOrder order = QueueProcessingOrder.OldestFirst;
        if (string.Equals(kind, RateLimiterPolicyOptions.SlidingWindow, StringComparison.OrdinalIgnoreCase))
            return RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
            {
                PermitLimit = policy.PermitLimit, Window = policy.Window, SegmentsPerWindow = policy.SegmentsPerWindow,
                QueueLimit = policy.QueueLimit, QueueProcessingOrder = order,
            });
        if (string.Equals(kind, RateLimiterPolicyOptions.TokenBucket, StringComparison.OrdinalIgnoreCase))
            return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = policy.TokenLimit, TokensPerPeriod = policy.TokensPerPeriod, ReplenishmentPeriod = policy.ReplenishmentPeriod,
                QueueLimit = policy.QueueLimit, QueueProcessingOrder = order,
            });
        if (string.Equals(kind, RateLimiterPolicyOptions.Concurrency, StringComparison.OrdinalIgnoreCase))
            return RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = policy.PermitLimit, QueueLimit = policy.QueueLimit, QueueProcessingOrder = order,
            });
        return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = policy.PermitLimit, Window = policy.Window, QueueLimit = policy.QueueLimit, QueueProcessingOrder = order,
        });
    }

    private static void ConfigureTimeouts(RequestTimeoutOptions options, IOptions<RoutePolicyOptions> policies)
    {
        foreach (var (name, policy) in policies.Value.Timeouts)
        {
            options.AddPolicy(name, new RequestTimeoutPolicy
            {
                Timeout = policy.Timeout,
                TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
                WriteTimeoutResponse = GatewayProblems.BackendTimeout,
            });
        }
    }

    private static void ConfigureCors(CorsOptions options, IOptions<RoutePolicyOptions> policies)
    {
        foreach (var (name, policy) in policies.Value.Cors)
        {
            options.AddPolicy(name, builder =>
            {
                var origins = policy.Origins ?? [];
                if (origins.Contains("*")) builder.AllowAnyOrigin();
                else builder.WithOrigins(origins);
                if (policy.Methods is { Length: > 0 } methods)
                {
                    if (methods.Contains("*")) builder.AllowAnyMethod();
                    else builder.WithMethods(methods);
                }
                if (policy.Headers is { Length: > 0 } headers)
                {
                    if (headers.Contains("*")) builder.AllowAnyHeader();
                    else builder.WithHeaders(headers);
                }
                if (policy.ExposedHeaders is { Length: > 0 } exposed) builder.WithExposedHeaders(exposed);
                if (policy.AllowCredentials) builder.AllowCredentials();
                if (policy.PreflightMaxAge is { } age) builder.SetPreflightMaxAge(age);
            });
        }
    }

    private static void ConfigureOutputCache(OutputCacheOptions options, IOptions<RoutePolicyOptions> policies)
    {
        foreach (var (name, policy) in policies.Value.OutputCache)
        {
            options.AddPolicy(name, builder =>
            {
                builder.Expire(policy.Duration!.Value);
                if (policy.VaryByQuery is { Length: > 0 } query) builder.SetVaryByQuery(query);
                if (policy.VaryByHeader is { Length: > 0 } headers) builder.SetVaryByHeader(headers);
            });
        }
    }
}
