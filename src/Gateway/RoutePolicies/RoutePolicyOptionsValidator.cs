using Microsoft.Extensions.Options;

namespace Gateway.RoutePolicies;

/// <summary>Checks <c>RoutePolicies</c> at startup; every failure names the configuration key.</summary>
internal sealed class RoutePolicyOptionsValidator : IValidateOptions<RoutePolicyOptions>
{
    /// <summary>Names YARP gives a meaning of its own in a route's policy fields.</summary>
    private static readonly string[] ReservedNames = ["Default", "Disable", "Anonymous"];

    private static readonly string[] Kinds =
        [RateLimiterPolicyOptions.FixedWindow, RateLimiterPolicyOptions.SlidingWindow, RateLimiterPolicyOptions.TokenBucket, RateLimiterPolicyOptions.Concurrency];

    public ValidateOptionsResult Validate(string? name, RoutePolicyOptions options)
    {
        var failures = new List<string>();
        const string p = RoutePolicyOptions.SectionName + ":";

        foreach (var (policy, limiter) in options.RateLimiters)
        {
            var key = $"{p}RateLimiters:{policy}";
            CheckName(failures, key, policy);
            if (!Kinds.Contains(limiter.Kind, StringComparer.OrdinalIgnoreCase))
                failures.Add($"{key}:Kind must be FixedWindow, SlidingWindow, TokenBucket or Concurrency (was '{limiter.Kind}').");
            var kind = Kinds.FirstOrDefault(k => string.Equals(k, limiter.Kind, StringComparison.OrdinalIgnoreCase));
            if (kind is not RateLimiterPolicyOptions.TokenBucket && limiter.PermitLimit < 1)
                failures.Add($"{key}:PermitLimit must be at least 1 (was {limiter.PermitLimit}).");
            if (kind is RateLimiterPolicyOptions.FixedWindow or RateLimiterPolicyOptions.SlidingWindow && limiter.Window <= TimeSpan.Zero)
                failures.Add($"{key}:Window must be greater than zero (was {limiter.Window}).");
            if (kind is RateLimiterPolicyOptions.SlidingWindow && limiter.SegmentsPerWindow < 1)
                failures.Add($"{key}:SegmentsPerWindow must be at least 1 (was {limiter.SegmentsPerWindow}).");
            if (kind is RateLimiterPolicyOptions.TokenBucket)
            {
                if (limiter.TokenLimit < 1) failures.Add($"{key}:TokenLimit must be at least 1 (was {limiter.TokenLimit}).");
                if (limiter.TokensPerPeriod < 1) failures.Add($"{key}:TokensPerPeriod must be at least 1 (was {limiter.TokensPerPeriod}).");
                if (limiter.ReplenishmentPeriod <= TimeSpan.Zero)
                    failures.Add($"{key}:ReplenishmentPeriod must be greater than zero (was {limiter.ReplenishmentPeriod}).");
            }
            if (limiter.QueueLimit < 0) failures.Add($"{key}:QueueLimit must not be negative (was {limiter.QueueLimit}).");
            if (!string.Equals(limiter.PartitionBy, RateLimiterPolicyOptions.ByClientAddress, StringComparison.OrdinalIgnoreCase)
                && !string.Equals(limiter.PartitionBy, RateLimiterPolicyOptions.ByNothing, StringComparison.OrdinalIgnoreCase))
                failures.Add($"{key}:PartitionBy must be ClientAddress or None (was '{limiter.PartitionBy}').");
        }

        foreach (var (policy, timeout) in options.Timeouts)
        {
            var key = $"{p}Timeouts:{policy}";
            CheckName(failures, key, policy);
            if (timeout.Timeout is not { } t || t <= TimeSpan.Zero)
                failures.Add($"{key}:Timeout must be set and greater than zero (was {timeout.Timeout?.ToString() ?? "unset"}).");
        }

        foreach (var (policy, cors) in options.Cors)
        {
            var key = $"{p}Cors:{policy}";
            CheckName(failures, key, policy);
            if (cors.Origins is not { Length: > 0 } origins)
            {
                failures.Add($"{key}:Origins must list at least one origin, or '*'.");
            }
            else
            {
                for (var i = 0; i < origins.Length; i++)
                {
                    if (!IsOrigin(origins[i]))
                        failures.Add($"{key}:Origins:{i} must be '*' or an origin such as https://erp.example.com (was '{origins[i]}').");
                }
                if (cors.AllowCredentials && origins.Contains("*"))
                    failures.Add($"{key}:AllowCredentials cannot be true with origin '*'.");
            }
            if (cors.PreflightMaxAge is { } age && age < TimeSpan.Zero)
                failures.Add($"{key}:PreflightMaxAge must not be negative (was {age}).");
        }

        foreach (var (policy, cache) in options.OutputCache)
        {
            var key = $"{p}OutputCache:{policy}";
            CheckName(failures, key, policy);
            if (cache.Duration is not { } d || d <= TimeSpan.Zero)
                failures.Add($"{key}:Duration must be set and greater than zero (was {cache.Duration?.ToString() ?? "unset"}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckName(List<string> failures, string key, string name)
    {
        if (ReservedNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            failures.Add($"{key}: '{name}' has a meaning of its own in a YARP route; choose another policy name.");
    }

    private static bool IsOrigin(string? value)
    {
        if (value == "*") return true;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && uri.AbsolutePath == "/" && !value.EndsWith('/')
            && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo);
    }
}
