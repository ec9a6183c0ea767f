using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Management;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Security;

/// <summary>
/// Issue 5, item 6: metrics and the OpenAPI document can be turned off, or bound to
/// <c>Licensing:ManagementPort</c>. Already covered elsewhere: <c>MetricsHiddenTests</c> (metrics off),
/// <c>HostedManagementPortTests</c> (the test server's port is never the management port) and
/// <c>OpenApiAndHostingTests</c> (a faked local port). Here: the OpenAPI switch, and the real gateway
/// listening on two real ports, where a client cannot reach the management-only routes on the public
/// port by naming the management port in <c>Host</c> or <c>X-Forwarded-*</c>.
/// </summary>
public static class EndpointExposure
{
    public const string Tenant = "expo";

    public static readonly string[] ManagementOnly =
        ["/_licensing/metrics", "/_licensing/openapi/v1.json", $"/_licensing/v1/tenants/{Tenant}", $"/_licensing/v1/tenants/{Tenant}/users"];

    public static string Operator() => TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    public static RawRequest Get(string path, string? token = null)
    {
        var request = new RawRequest("GET", path);
        if (token is not null) request.Bearer(token);
        return request;
    }

    public static async Task AssertNotFoundAsync(Uri server, RawRequest request, string what)
    {
        var response = await RawHttp.SendAsync(server, request);
        Assert.True(response.Status == 404 && response.ProblemCode == "not-found", $"{what} {request}: {response}");
    }

    public static async Task<RawResponse> AssertOkAsync(Uri server, RawRequest request, string what)
    {
        var response = await RawHttp.SendAsync(server, request);
        Assert.True(response.Status == 200, $"{what} {request}: {response}");
        return response;
    }
}

/// <summary><c>Licensing:OpenApi:Expose=false</c>: no OpenAPI document (and no API reference), the API itself unchanged.</summary>
public sealed class OpenApiHiddenTests(OpenApiHiddenTests.Fixture fixture) : IClassFixture<OpenApiHiddenTests.Fixture>
{
    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) => gateway
            .With("Licensing:OpenApi:Expose", "false")
            .WithTenant(EndpointExposure.Tenant, LicenseModel.RegisteredUsers, 3);
    }

    [Theory]
    [InlineData("/_licensing/openapi/v1.json")]
    [InlineData("/_licensing/openapi/v2.json")]
    [InlineData("/_licensing/docs")]
    public async Task The_openapi_document_is_not_served(string path)
    {
        await EndpointExposure.AssertNotFoundAsync(fixture.Address, EndpointExposure.Get(path), "OpenAPI off");
        await EndpointExposure.AssertNotFoundAsync(fixture.Address, EndpointExposure.Get(path, EndpointExposure.Operator()), "OpenAPI off, operator");
    }

    [Fact]
    public async Task The_management_api_and_metrics_still_answer()
    {
        await EndpointExposure.AssertOkAsync(fixture.Address, EndpointExposure.Get($"/_licensing/v1/tenants/{EndpointExposure.Tenant}", EndpointExposure.Operator()), "API");
        await EndpointExposure.AssertOkAsync(fixture.Address, EndpointExposure.Get("/_licensing/metrics"), "metrics");
    }
}

/// <summary>The real gateway on two real loopback ports, <c>Licensing:ManagementPort</c> set to the second one.</summary>
public abstract class TwoPortGatewayFixture : KestrelGatewayFixture
{
    public int ManagementPort { get; } = FreePort.Get();

    public Uri Public => Addresses.Single(a => a.Port != ManagementPort);

    public Uri Management => Addresses.Single(a => a.Port == ManagementPort);

    protected override void ConfigureKestrel(GatewayFactory gateway) => gateway.UseKestrel(kestrel =>
    {
        kestrel.Listen(IPAddress.Loopback, 0);
        kestrel.Listen(IPAddress.Loopback, ManagementPort);
    });

    protected sealed override void ConfigureGateway(GatewayFactory gateway) =>
        ConfigureSettings(gateway.With("Licensing:ManagementPort", ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Everything else the test class needs (tenants, switches).</summary>
    protected abstract void ConfigureSettings(GatewayFactory gateway);
}

/// <summary>The real gateway on two real ports, <c>Licensing:ManagementPort</c> set to the second one.</summary>
public sealed class ManagementPortTests(ManagementPortTests.Fixture fixture) : IClassFixture<ManagementPortTests.Fixture>
{
    public sealed class Fixture : TwoPortGatewayFixture
    {
        protected override void ConfigureSettings(GatewayFactory gateway) =>
            gateway.WithTenant(EndpointExposure.Tenant, LicenseModel.RegisteredUsers, 3, activeUsers: ["alice"]);
    }

    [Fact]
    public async Task Metrics_openapi_and_tenant_routes_answer_on_the_management_port()
    {
        var metrics = await EndpointExposure.AssertOkAsync(fixture.Management, EndpointExposure.Get("/_licensing/metrics"), "management port");
        Assert.Contains("# TYPE ", metrics.BodyText, StringComparison.Ordinal); // Prometheus text
        await EndpointExposure.AssertOkAsync(fixture.Management, EndpointExposure.Get("/_licensing/openapi/v1.json"), "management port");
        await EndpointExposure.AssertOkAsync(fixture.Management, EndpointExposure.Get($"/_licensing/v1/tenants/{EndpointExposure.Tenant}", EndpointExposure.Operator()), "management port");
        var anonymous = await RawHttp.SendAsync(fixture.Management, EndpointExposure.Get($"/_licensing/v1/tenants/{EndpointExposure.Tenant}"));
        Assert.True(anonymous.IsBearerChallenge, anonymous.ToString());
    }

    [Fact]
    public async Task They_do_not_exist_on_the_public_port_whatever_host_or_forwarded_headers_claim()
    {
        var port = fixture.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var path in EndpointExposure.ManagementOnly)
        {
            foreach (var token in new[] { null, EndpointExposure.Operator() })
            {
                await EndpointExposure.AssertNotFoundAsync(fixture.Public, EndpointExposure.Get(path, token), "public port");
                var spoofed = EndpointExposure.Get(path, token)
                    .Header("X-Forwarded-Host", $"127.0.0.1:{port}").Header("X-Forwarded-Port", port)
                    .Header("X-Forwarded-Proto", "http").Header("X-Forwarded-For", "127.0.0.1").Header("Forwarded", $"host=127.0.0.1:{port}");
                await EndpointExposure.AssertNotFoundAsync(fixture.Public, spoofed, "public port, forwarded headers naming the management port");
                // The Host header names the management port (the raw request adds its own Host first: replace it).
                var hostOnly = new RawRequest("GET", path);
                if (token is not null) hostOnly.Bearer(token);
                var response = await RawHttp.SendAsync(fixture.Public, hostOnly, host: $"127.0.0.1:{port}");
                Assert.True(response.Status == 404 && response.ProblemCode == "not-found", $"public port, Host naming the management port {path}: {response}");
            }
        }
    }

    [Fact]
    public async Task Health_and_me_answer_on_both_ports()
    {
        foreach (var server in new[] { fixture.Public, fixture.Management })
        {
            await EndpointExposure.AssertOkAsync(server, EndpointExposure.Get("/_licensing/healthz"), server.ToString());
            await EndpointExposure.AssertOkAsync(server, EndpointExposure.Get("/_licensing/v1/me/sessions", TestTokens.User(EndpointExposure.Tenant, "alice")), server.ToString());
        }
    }
}

/// <summary>Both switches off and a management port: metrics and OpenAPI exist nowhere, tenant routes on the management port only.</summary>
public sealed class ManagementPortWithEndpointsOffTests(ManagementPortWithEndpointsOffTests.Fixture fixture) : IClassFixture<ManagementPortWithEndpointsOffTests.Fixture>
{
    public sealed class Fixture : TwoPortGatewayFixture
    {
        protected override void ConfigureSettings(GatewayFactory gateway) => gateway
            .With("Licensing:Metrics:Expose", "false")
            .With("Licensing:OpenApi:Expose", "false")
            .WithTenant(EndpointExposure.Tenant, LicenseModel.RegisteredUsers, 3);
    }

    [Fact]
    public async Task Metrics_and_openapi_are_nowhere_and_tenant_routes_only_on_the_management_port()
    {
        foreach (var server in new[] { fixture.Public, fixture.Management })
        {
            await EndpointExposure.AssertNotFoundAsync(server, EndpointExposure.Get("/_licensing/metrics"), server.ToString());
            await EndpointExposure.AssertNotFoundAsync(server, EndpointExposure.Get("/_licensing/openapi/v1.json"), server.ToString());
        }
        await EndpointExposure.AssertOkAsync(fixture.Management, EndpointExposure.Get($"/_licensing/v1/tenants/{EndpointExposure.Tenant}", EndpointExposure.Operator()), "management port");
        await EndpointExposure.AssertNotFoundAsync(fixture.Public, EndpointExposure.Get($"/_licensing/v1/tenants/{EndpointExposure.Tenant}", EndpointExposure.Operator()), "public port");
    }
}

/// <summary>The production sample serves metrics and the OpenAPI document only on a management port it listens on.</summary>
public sealed class ProductionSampleExposureTests
{
    [Fact]
    public void The_production_sample_sets_a_management_port_and_listens_on_it()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "config", "appsettings.Production.sample.json"))) directory = directory.Parent;
        Assert.NotNull(directory);
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(directory.FullName, "config", "appsettings.Production.sample.json"))
            .Build();

        var port = configuration["Licensing:ManagementPort"];
        Assert.False(string.IsNullOrEmpty(port), "Licensing:ManagementPort is not set in the production sample.");
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => new Uri(e["Url"]!.Replace("+", "localhost", StringComparison.Ordinal)).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Contains(port, endpoints);
        Assert.Contains(endpoints, p => p != port); // and a public one
        Assert.NotEqual("false", configuration["Licensing:Metrics:Expose"]);
    }
}
