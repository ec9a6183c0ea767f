using Gateway.Tests.Support;

namespace Gateway.FaultTests.Infrastructure;

/// <summary>
/// Configuration of a gateway process, as ASP.NET configuration keys (<c>Licensing:IdleTimeout</c>);
/// <see cref="GatewayProcess"/> passes them as environment variables (<c>Licensing__IdleTimeout</c>).
/// Starts with the test token settings and one enforced route <c>/api/{**rest}</c> to the backend.
/// </summary>
public sealed class GatewaySettings
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="redis">
    /// <c>ConnectionStrings:Redis</c>; null or empty runs the embedded store (set
    /// <c>Licensing:Embedded:DataPath</c> then).
    /// </param>
    /// <param name="backend">The loopback backend every proxied route forwards to.</param>
    public GatewaySettings(string? redis, Uri backend)
    {
        // Generous command timeouts (the shipped default is 1 s): on a busy shared machine a Redis that
        // stalls for a second must not be mistaken for an outage. A killed Redis still fails every call
        // at once (closed socket, no backlog), which the outage tests check: no request there takes 3 s.
        this["ConnectionStrings:Redis"] = string.IsNullOrEmpty(redis) ? "" : redis + ",syncTimeout=5000,asyncTimeout=5000";
        this["Authentication:Schemes:Bearer:ValidIssuer"] = TestTokens.Issuer;
        this["Authentication:Schemes:Bearer:ValidAudiences:0"] = TestTokens.Audience;
        this["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = TestTokens.Issuer;
        this["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = TestTokens.KeyBase64;
        this["ReverseProxy:Routes:api:ClusterId"] = "backend";
        this["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}";
        this["ReverseProxy:Clusters:backend:Destinations:d1:Address"] = backend.ToString();

        // One line per entry, no colours: the captured output is easy to search.
        this["Logging:Console:FormatterName"] = "simple";
        this["Logging:Console:FormatterOptions:SingleLine"] = "true";
        this["Logging:Console:FormatterOptions:ColorBehavior"] = "Disabled";
    }

    public string this[string key]
    {
        get => _values[key];
        set => _values[key] = value;
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The process's working directory; null: the gateway's own folder (its build output).</summary>
    public string? WorkingDirectory { get; set; }

    public GatewaySettings With(string key, string value)
    {
        this[key] = value;
        return this;
    }

    /// <summary>A plan from configuration: <c>Licensing:Tenants:{tenant}:Model/SeatLimit/ActiveUsers</c>.</summary>
    public GatewaySettings WithTenant(string tenant, string model, int seatLimit, IReadOnlyList<string>? activeUsers = null)
    {
        With($"Licensing:Tenants:{tenant}:Model", model);
        With($"Licensing:Tenants:{tenant}:SeatLimit", seatLimit.ToString());
        for (var i = 0; i < (activeUsers?.Count ?? 0); i++) With($"Licensing:Tenants:{tenant}:ActiveUsers:{i}", activeUsers![i]);
        return this;
    }

    /// <summary>A copy, e.g. to start another replica with one setting changed.</summary>
    public GatewaySettings Clone()
    {
        var copy = new GatewaySettings(null, new Uri("http://127.0.0.1/"));
        copy._values.Clear();
        foreach (var (key, value) in _values) copy._values[key] = value;
        copy.WorkingDirectory = WorkingDirectory;
        return copy;
    }

    /// <summary>The environment variable for a configuration key: <c>:</c> becomes <c>__</c>.</summary>
    public static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
