using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Gateway.Identity;

/// <summary>
/// Which proxies may set the client address and scheme (used by the <c>fingerprint</c> device source,
/// and sent on to the backends): only those listed in <c>ForwardedHeaders:KnownProxies</c> (IP
/// addresses) and <c>ForwardedHeaders:KnownNetworks</c> (CIDR). Nobody is trusted by default, not even
/// loopback. ASP.NET's middleware believes every sender when both lists are empty, so then it is left
/// out altogether: the client address and scheme are the connection's. What the backends receive is
/// YARP's default <c>X-Forwarded-*</c> transform, which replaces any inbound <c>X-Forwarded-*</c> and
/// <c>Forwarded</c> with this view (see docs/trust-boundaries.md).
/// </summary>
internal static class ForwardedHeadersConfiguration
{
    public const string SectionName = "ForwardedHeaders";

    public static IServiceCollection AddGatewayForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IConfiguration>((options, configuration) => Apply(options, configuration.GetSection(SectionName)));
        return services;
    }

    /// <summary>
    /// ASP.NET's forwarded-headers middleware, only when at least one proxy or network is trusted.
    /// </summary>
    public static IApplicationBuilder UseGatewayForwardedHeaders(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        if (options.KnownProxies.Count == 0 && options.KnownIPNetworks.Count == 0) return app;
        return app.UseForwardedHeaders();
    }

    internal static void Apply(ForwardedHeadersOptions options, IConfigurationSection section)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();

        foreach (var (key, value) in Entries(section, "KnownProxies"))
        {
            if (!IPAddress.TryParse(value, out var address))
                throw new InvalidOperationException($"{key} must be an IP address (was '{value}').");
            options.KnownProxies.Add(address);
        }
        foreach (var (key, value) in Entries(section, "KnownNetworks"))
        {
            if (!System.Net.IPNetwork.TryParse(value, out var network))
                throw new InvalidOperationException($"{key} must be a network in CIDR notation, e.g. 10.0.0.0/8 (was '{value}').");
            options.KnownIPNetworks.Add(network);
        }

        var limit = section["ForwardLimit"];
        if (!string.IsNullOrEmpty(limit))
        {
            if (!int.TryParse(limit, out var value) || value < 1)
                throw new InvalidOperationException($"{SectionName}:ForwardLimit must be a positive integer (was '{limit}').");
            options.ForwardLimit = value;
        }
    }

    /// <summary>A list (<c>KnownProxies:0</c>, ...) or one comma-separated value (handy in environment variables).</summary>
    private static IEnumerable<(string Key, string Value)> Entries(IConfigurationSection section, string name)
    {
        var list = section.GetSection(name);
        if (!string.IsNullOrWhiteSpace(list.Value))
        {
            foreach (var item in list.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                yield return (list.Path, item);
            yield break;
        }
        foreach (var child in list.GetChildren())
        {
            if (!string.IsNullOrWhiteSpace(child.Value)) yield return (child.Path, child.Value.Trim());
        }
    }
}
