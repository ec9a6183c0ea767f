using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// The real gateway (<c>Program</c>) in a test host, configured through configuration only:
/// <c>ConnectionStrings:Redis</c>, JwtBearer issuer/audience/test key, YARP routes to a
/// <see cref="Infrastructure.LoopbackBackend"/>, and <c>Licensing:*</c> (options and tenant plans).
/// </summary>
/// <remarks>
/// Routes: <c>/api/{**}</c> enforced, <c>/open/{**}</c> with <c>Licensing: Off</c>, <c>/logout/{**}</c>
/// with <c>Licensing: Release</c> (prefix removed, so <c>/logout/status/204</c> reaches <c>/status/204</c>).
/// </remarks>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private Action<ILoggingBuilder>? _logging;
    private Action<IServiceCollection>? _services;

    public GatewayFactory(string? redisConnectionString, Uri backend)
    {
        _settings = new(StringComparer.OrdinalIgnoreCase)
        {
            ["ConnectionStrings:Redis"] = redisConnectionString ?? "",
            ["Authentication:Schemes:Bearer:ValidIssuer"] = TestTokens.Issuer,
            ["Authentication:Schemes:Bearer:ValidAudiences:0"] = TestTokens.Audience,
            ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = TestTokens.Issuer,
            ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = TestTokens.KeyBase64,

            ["ReverseProxy:Routes:api:ClusterId"] = "backend",
            ["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}",
            ["ReverseProxy:Routes:open:ClusterId"] = "backend",
            ["ReverseProxy:Routes:open:Match:Path"] = "/open/{**rest}",
            ["ReverseProxy:Routes:open:Metadata:Licensing"] = "Off",
            ["ReverseProxy:Routes:logout:ClusterId"] = "backend",
            ["ReverseProxy:Routes:logout:Match:Path"] = "/logout/{**rest}",
            ["ReverseProxy:Routes:logout:Metadata:Licensing"] = "Release",
            ["ReverseProxy:Routes:logout:Transforms:0:PathRemovePrefix"] = "/logout",
            ["ReverseProxy:Clusters:backend:Destinations:d1:Address"] = backend.ToString(),
        };
    }

    /// <summary>Sets (or with null, removes) a configuration value; call before the first request.</summary>
    public GatewayFactory With(string key, string? value)
    {
        if (value is null) _settings.Remove(key);
        else _settings[key] = value;
        return this;
    }

    /// <summary>The configuration value set for <paramref name="key"/>, or null.</summary>
    public string? Setting(string key) => _settings.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// Adds logging to the test host (which otherwise has no logger providers), e.g. a capturing
    /// provider; call before the first request.
    /// </summary>
    public GatewayFactory WithLogging(Action<ILoggingBuilder> configure)
    {
        _logging += configure;
        return this;
    }

    /// <summary>Changes the gateway's services (after its own registrations); call before the first request.</summary>
    public GatewayFactory WithServices(Action<IServiceCollection> configure)
    {
        _services += configure;
        return this;
    }

    /// <summary>
    /// Validates tokens against an OpenID Connect provider (<c>Authentication:Schemes:Bearer:Authority</c>,
    /// discovery and JWKS over plain http on loopback) instead of the static test key and issuer.
    /// </summary>
    public GatewayFactory WithAuthority(Uri authority, string audience)
    {
        With("Authentication:Schemes:Bearer:ValidIssuer", null);
        With("Authentication:Schemes:Bearer:SigningKeys:0:Issuer", null);
        With("Authentication:Schemes:Bearer:SigningKeys:0:Value", null);
        With("Authentication:Schemes:Bearer:Authority", authority.AbsoluteUri);
        With("Authentication:Schemes:Bearer:RequireHttpsMetadata", "false");
        return With("Authentication:Schemes:Bearer:ValidAudiences:0", audience);
    }

    /// <summary>A configuration-managed plan: <c>Licensing:Tenants:{tenant}:Model/SeatLimit/ActiveUsers/ReservedUsers</c>.</summary>
    public GatewayFactory WithTenant(string tenant, LicenseModel model, int seatLimit, string[]? activeUsers = null, string[]? reservedUsers = null)
    {
        var prefix = $"Licensing:Tenants:{tenant}:";
        With(prefix + "Model", model.ToString());
        With(prefix + "SeatLimit", seatLimit.ToString());
        for (var i = 0; i < (activeUsers?.Length ?? 0); i++) With($"{prefix}ActiveUsers:{i}", activeUsers![i]);
        for (var i = 0; i < (reservedUsers?.Length ?? 0); i++) With($"{prefix}ReservedUsers:{i}", reservedUsers![i]);
        return this;
    }

    public LicenseStore Store => Services.GetRequiredService<LicenseStore>();

    /// <summary>Starts the gateway and (unless told not to) waits until the configured plans are in the store.</summary>
    public async Task<HttpClient> StartAsync(bool waitForPlans = true)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (waitForPlans) await Services.GetRequiredService<ConfiguredPlanSeeder>().Seeded.WaitAsync(TimeSpan.FromSeconds(10));
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Not Development: no user secrets, no appsettings.Development.json.
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            _logging?.Invoke(logging);
        });
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<IStartupFilter, TestRemoteAddress>();
            _services?.Invoke(services);
        });
    }

    /// <summary>
    /// The test server has no client address; a test sets one with the <c>X-Test-Remote-Ip</c> header,
    /// applied before anything of the gateway runs (as if the TCP peer had that address).
    /// </summary>
    private sealed class TestRemoteAddress : IStartupFilter
    {
        public const string Header = "X-Test-Remote-Ip";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.Remove(Header, out var value)) context.Connection.RemoteIpAddress = IPAddress.Parse(value.ToString());
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
