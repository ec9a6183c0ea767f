using Gateway.Licensing.Options;
using Gateway.RoutePolicies;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// The configuration binder leaves out a dictionary entry it cannot convert (a tenant whose
/// <c>Model</c> is misspelt, a policy whose time span is not <c>hh:mm:ss</c>) without a word, so the
/// options validators never see it. These validators bind each such entry on its own again and report
/// the binder's error, which names the key.
/// </summary>
internal static class DroppedConfigurationEntries
{
    public static void Check<T>(IConfiguration configuration, string sectionPath, IReadOnlyCollection<string> boundKeys, List<string> failures)
        where T : class
    {
        foreach (var child in configuration.GetSection(sectionPath).GetChildren())
        {
            if (boundKeys.Contains(child.Key)) continue;
            try
            {
                child.Get<T>();
                failures.Add($"{child.Path} could not be read.");
            }
            catch (InvalidOperationException ex)
            {
                failures.Add($"{child.Path}: {ex.Message}");
            }
        }
    }

    internal sealed class LicensingTenants(IConfiguration configuration) : IValidateOptions<LicensingOptions>
    {
        public ValidateOptionsResult Validate(string? name, LicensingOptions options)
        {
            var failures = new List<string>();
            Check<TenantPlanOptions>(configuration, LicensingOptions.SectionName + ":Tenants", options.Tenants.Keys, failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    internal sealed class RoutePolicyEntries(IConfiguration configuration) : IValidateOptions<RoutePolicyOptions>
    {
        public ValidateOptionsResult Validate(string? name, RoutePolicyOptions options)
        {
            var failures = new List<string>();
            const string p = RoutePolicyOptions.SectionName + ":";
            Check<RateLimiterPolicyOptions>(configuration, p + "RateLimiters", options.RateLimiters.Keys, failures);
            Check<TimeoutPolicyOptions>(configuration, p + "Timeouts", options.Timeouts.Keys, failures);
            Check<CorsPolicyOptions>(configuration, p + "Cors", options.Cors.Keys, failures);
            Check<OutputCachePolicyOptions>(configuration, p + "OutputCache", options.OutputCache.Keys, failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
