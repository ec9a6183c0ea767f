namespace Gateway.RoutePolicies;

/// <summary>
/// The <c>RoutePolicies</c> configuration section: named policies that YARP routes refer to by name
/// (<c>RateLimiterPolicy</c>, <c>TimeoutPolicy</c>, <c>CorsPolicy</c>, <c>OutputCachePolicy</c>). Each is
/// registered with the standard ASP.NET Core middleware of its kind. Default: no policies.
/// </summary>
public sealed class RoutePolicyOptions
{
    public const string SectionName = "RoutePolicies";

    /// <summary>Rate limiter policies by name (<c>RoutePolicies:RateLimiters:{name}</c>). Default: none.</summary>
    public Dictionary<string, RateLimiterPolicyOptions> RateLimiters { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Request timeout policies by name (<c>RoutePolicies:Timeouts:{name}</c>). Default: none.</summary>
    public Dictionary<string, TimeoutPolicyOptions> Timeouts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>CORS policies by name (<c>RoutePolicies:Cors:{name}</c>). Default: none.</summary>
    public Dictionary<string, CorsPolicyOptions> Cors { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Output cache policies by name (<c>RoutePolicies:OutputCache:{name}</c>). Default: none.</summary>
    public Dictionary<string, OutputCachePolicyOptions> OutputCache { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One rate limiter policy. A refusal is 429 problem+json with code <c>rate-limited</c>.</summary>
public sealed class RateLimiterPolicyOptions
{
    public const string FixedWindow = "FixedWindow";
    public const string SlidingWindow = "SlidingWindow";
    public const string TokenBucket = "TokenBucket";
    public const string Concurrency = "Concurrency";
    public const string ByClientAddress = "ClientAddress";
    public const string ByNothing = "None";

    /// <summary><c>FixedWindow</c>, <c>SlidingWindow</c>, <c>TokenBucket</c> or <c>Concurrency</c>. Default: <c>FixedWindow</c>.</summary>
    public string Kind { get; set; } = FixedWindow;

    /// <summary>
    /// Requests per window (<c>FixedWindow</c>, <c>SlidingWindow</c>) or at the same time
    /// (<c>Concurrency</c>). Default: 100.
    /// </summary>
    public int PermitLimit { get; set; } = 100;

    /// <summary>Window length (<c>FixedWindow</c>, <c>SlidingWindow</c>). Default: 00:00:01.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Segments of a sliding window (<c>SlidingWindow</c>). Default: 4.</summary>
    public int SegmentsPerWindow { get; set; } = 4;

    /// <summary>Bucket size (<c>TokenBucket</c>). Default: 100.</summary>
    public int TokenLimit { get; set; } = 100;

    /// <summary>Tokens added per period (<c>TokenBucket</c>). Default: 100.</summary>
    public int TokensPerPeriod { get; set; } = 100;

    /// <summary>Period of the refill (<c>TokenBucket</c>). Default: 00:00:01.</summary>
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Requests that wait for a permit instead of being refused at once (oldest first). Default: 0.</summary>
    public int QueueLimit { get; set; }

    /// <summary>
    /// <c>ClientAddress</c>: one limiter per client address (the one forwarded-headers handling yields);
    /// <c>None</c>: one limiter for every request of the routes that name the policy. Default:
    /// <c>ClientAddress</c>.
    /// </summary>
    public string PartitionBy { get; set; } = ByClientAddress;
}

/// <summary>One request timeout policy. An elapsed timeout is 504 problem+json with code <c>backend-timeout</c>.</summary>
public sealed class TimeoutPolicyOptions
{
    /// <summary>How long a request of the route may take, the backend's answer included. Required.</summary>
    public TimeSpan? Timeout { get; set; }
}

/// <summary>One CORS policy.</summary>
public sealed class CorsPolicyOptions
{
    /// <summary>Allowed origins (<c>https://host[:port]</c>), or <c>*</c> for any. Required.</summary>
    public string[]? Origins { get; set; }

    /// <summary>Allowed methods; <c>*</c> for any. Default: GET, HEAD and POST only (the CORS-safelisted ones).</summary>
    public string[]? Methods { get; set; }

    /// <summary>Allowed request headers; <c>*</c> for any. Default: only CORS-safelisted headers.</summary>
    public string[]? Headers { get; set; }

    /// <summary>Response headers the browser may read besides the safelisted ones. Default: none.</summary>
    public string[]? ExposedHeaders { get; set; }

    /// <summary>Whether credentials (cookies, Authorization) may be sent; not with origin <c>*</c>. Default: false.</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>How long a browser may cache a preflight answer. Default: none (the browser's default).</summary>
    public TimeSpan? PreflightMaxAge { get; set; }
}

/// <summary>
/// One output cache policy. Only anonymous GET/HEAD answers 200 without <c>Set-Cookie</c> are cached
/// (ASP.NET's default rules), so a request with a bearer token is never served from the cache.
/// </summary>
public sealed class OutputCachePolicyOptions
{
    /// <summary>How long an answer is served from the cache. Required.</summary>
    public TimeSpan? Duration { get; set; }

    /// <summary>Query parameters that make separate cache entries (<c>*</c> for all). Default: none.</summary>
    public string[]? VaryByQuery { get; set; }

    /// <summary>Request headers that make separate cache entries. Default: none.</summary>
    public string[]? VaryByHeader { get; set; }
}
