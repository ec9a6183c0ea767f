using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.RoutePolicies;

/// <summary>
/// A bad <c>RoutePolicies</c> value, a route naming a policy nobody declared, or a dictionary entry the
/// configuration binder could not read (it drops those silently) stops the start naming it.
/// </summary>
public sealed class RoutePolicyStartupTests(StartupTests.Stores stores, ITestOutputHelper output) : IClassFixture<StartupTests.Stores>
{
    [Theory]
    [InlineData("RoutePolicies:RateLimiters:x:Kind", "Leaky", "RoutePolicies:RateLimiters:x:Kind")]
    [InlineData("RoutePolicies:RateLimiters:x:PermitLimit", "0", "RoutePolicies:RateLimiters:x:PermitLimit")]
    [InlineData("RoutePolicies:RateLimiters:x:Window", "00:00:00", "RoutePolicies:RateLimiters:x:Window")]
    [InlineData("RoutePolicies:RateLimiters:x:QueueLimit", "-1", "RoutePolicies:RateLimiters:x:QueueLimit")]
    [InlineData("RoutePolicies:RateLimiters:x:PartitionBy", "Moon", "RoutePolicies:RateLimiters:x:PartitionBy")]
    [InlineData("RoutePolicies:RateLimiters:Default:PermitLimit", "5", "RoutePolicies:RateLimiters:Default")]
    [InlineData("RoutePolicies:RateLimiters:x:SegmentsPerWindow", "0", "RoutePolicies:RateLimiters:x:SegmentsPerWindow")]
    [InlineData("RoutePolicies:RateLimiters:x:TokenLimit", "0", "RoutePolicies:RateLimiters:x:TokenLimit")]
    [InlineData("RoutePolicies:RateLimiters:x:TokensPerPeriod", "0", "RoutePolicies:RateLimiters:x:TokensPerPeriod")]
    [InlineData("RoutePolicies:RateLimiters:x:ReplenishmentPeriod", "00:00:00", "RoutePolicies:RateLimiters:x:ReplenishmentPeriod")]
    [InlineData("RoutePolicies:Cors:x:AllowCredentials", "true", "RoutePolicies:Cors:x:AllowCredentials")]
    [InlineData("RoutePolicies:Cors:x:Methods:0", "GET", "RoutePolicies:Cors:x:Origins")]
    [InlineData("RoutePolicies:Timeouts:x:Timeout", "00:00:00", "RoutePolicies:Timeouts:x:Timeout")]
    [InlineData("RoutePolicies:Timeouts:x:Timeout", "soon", "RoutePolicies:Timeouts:x:Timeout")]
    [InlineData("RoutePolicies:RateLimiters:x:Window", "soon", "RoutePolicies:RateLimiters:x:Window")]
    [InlineData("Licensing:Tenants:acme:Model", "Bogus", "Licensing:Tenants:acme")]
    [InlineData("RoutePolicies:Cors:x:Origins:0", "erp.example.com", "RoutePolicies:Cors:x:Origins:0")]
    [InlineData("RoutePolicies:Cors:x:PreflightMaxAge", "-00:00:01", "RoutePolicies:Cors:x:PreflightMaxAge")]
    [InlineData("RoutePolicies:OutputCache:x:Duration", "00:00:00", "RoutePolicies:OutputCache:x:Duration")]
    [InlineData("ReverseProxy:Routes:api:RateLimiterPolicy", "undeclared", "undeclared")]
    [InlineData("ReverseProxy:Routes:api:TimeoutPolicy", "undeclared", "undeclared")]
    [InlineData("ReverseProxy:Routes:api:CorsPolicy", "undeclared", "undeclared")]
    [InlineData("ReverseProxy:Routes:api:OutputCachePolicy", "undeclared", "undeclared")]
    public async Task Bad_route_policy_setting_stops_the_start_naming_it(string key, string value, string named)
    {
        var gateway = new GatewayFactory(stores.Redis.ConnectionString, stores.Backend.BaseAddress).With(key, value);
        if (key.StartsWith("RoutePolicies:Cors:x:PreflightMaxAge", StringComparison.Ordinal)) gateway.With("RoutePolicies:Cors:x:Origins:0", "https://erp.example.com");
        if (key.StartsWith("RoutePolicies:Cors:x:AllowCredentials", StringComparison.Ordinal)) gateway.With("RoutePolicies:Cors:x:Origins:0", "*");
        if (key.StartsWith("RoutePolicies:RateLimiters:x:SegmentsPerWindow", StringComparison.Ordinal)) gateway.With("RoutePolicies:RateLimiters:x:Kind", "SlidingWindow");
        if (key.StartsWith("RoutePolicies:RateLimiters:x:To", StringComparison.Ordinal) || key.EndsWith("ReplenishmentPeriod", StringComparison.Ordinal))
            gateway.With("RoutePolicies:RateLimiters:x:Kind", "TokenBucket");

        await using (gateway)
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => gateway.StartAsync());
            var messages = new List<string>();
            for (Exception? e = ex; e is not null; e = e.InnerException)
            {
                messages.Add(e.Message);
                if (e is AggregateException aggregate) messages.AddRange(aggregate.InnerExceptions.Select(i => i.Message));
            }
            var message = string.Join(" | ", messages);
            output.WriteLine(message);
            Assert.Contains(named, message);
        }
    }
}
