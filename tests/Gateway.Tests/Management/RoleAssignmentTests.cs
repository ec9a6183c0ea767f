using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Management;

/// <summary>
/// Roles assigned in configuration, without touching the identity provider: <c>Licensing:Operators</c>
/// (user ids, whatever tenant their token names), <c>Licensing:Tenants:{t}:Admins</c> (user ids of that
/// tenant), and the role claim's values themselves (<c>Licensing:Roles:*</c>).
/// </summary>
public sealed class RoleAssignmentTests(RoleAssignmentTests.Fixture fixture) : IClassFixture<RoleAssignmentTests.Fixture>
{
    public sealed class Fixture : GatewayFixture
    {
        protected override void Configure(GatewayFactory gateway) => gateway
            .WithTenant("acme", LicenseModel.RegisteredUsers, 5)
            .With("Licensing:Tenants:acme:Admins:0", "acme-boss")
            // An entry with admins only: no plan comes from configuration for it.
            .With("Licensing:Tenants:globex:Admins:0", "globex-boss")
            .With("Licensing:Operators:0", "ops-person")
            .With("Licensing:Roles:Operator", "erp-ops")
            .With("Licensing:Roles:Admin", "erp-admin");
    }

    private static HttpRequestMessage Send(HttpMethod method, string path, string token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    private async Task<HttpStatusCode> StatusAsync(HttpMethod method, string path, string token, string? body = null)
    {
        using var response = await fixture.Client.SendAsync(Send(method, path, token, body));
        return response.StatusCode;
    }

    [Theory]
    [InlineData("globex")]
    [InlineData("acme")]
    [InlineData(null)]
    public async Task A_configured_operator_administers_every_tenant_whatever_tenant_its_token_names(string? tokenTenant)
    {
        var token = TestTokens.User(tokenTenant, "ops-person");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", token));
        var tenant = "ops-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(HttpMethod.Put, $"/_licensing/v1/tenants/{tenant}", token, """{"model":"ConcurrentSessions","seatLimit":3}"""));
    }

    [Fact]
    public async Task A_configured_admin_administers_its_own_tenant_only()
    {
        var token = TestTokens.User("acme", "acme-boss");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", token));
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(HttpMethod.Put, "/_licensing/v1/tenants/acme/users/carol", token, """{"active":true}"""));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/globex", token));
        // An admin, not an operator: no plan changes.
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Put, "/_licensing/v1/tenants/acme", token, """{"model":"RegisteredUsers","seatLimit":9}"""));
    }

    [Fact]
    public async Task A_listed_admin_whose_token_names_another_tenant_is_no_admin_there()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User("globex", "acme-boss")));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User(null, "acme-boss")));
    }

    [Fact]
    public async Task An_admins_only_entry_seeds_no_plan()
    {
        using var response = await fixture.Client.SendAsync(Send(HttpMethod.Get, "/_licensing/v1/tenants/globex", TestTokens.User("globex", "globex-boss")));

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "tenant-not-found");
    }

    [Fact]
    public async Task The_configured_role_values_replace_the_default_ones()
    {
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User("acme", "someone", ("role", "erp-admin"))));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User("other", "someone", ("role", new[] { "x", "erp-ops" }))));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User("acme", "someone", ("role", "license-admin"))));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, "/_licensing/v1/tenants/acme", TestTokens.User("acme", "someone", ("role", "license-operator"))));
    }
}

/// <summary>A bad role assignment stops the start naming the key.</summary>
public sealed class RoleAssignmentStartupTests(StartupTests.Stores stores, ITestOutputHelper output) : IClassFixture<StartupTests.Stores>
{
    [Theory]
    [InlineData("Licensing:Operators:0", "olé", "Licensing:Operators:0")]
    [InlineData("Licensing:Tenants:acme:Admins:0", "tab\there", "Licensing:Tenants:acme:Admins:0")]
    [InlineData("Licensing:Roles:Operator", " ", "Licensing:Roles:Operator")]
    [InlineData("Licensing:Roles:Admin", "license-operator", "Licensing:Roles:Admin")]
    [InlineData("Licensing:Tenants:acme:SeatLimit", "5", "Licensing:Tenants:acme:Model")]
    public async Task Bad_role_setting_stops_the_start_naming_it(string key, string value, string named)
    {
        var gateway = new GatewayFactory(stores.Redis.ConnectionString, stores.Backend.BaseAddress).With(key, value);
        await using (gateway)
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => gateway.StartAsync());
            var messages = new List<string>();
            for (Exception? e = ex; e is not null; e = e.InnerException) messages.Add(e.Message);
            var message = string.Join(" | ", messages);
            output.WriteLine(message);
            Assert.Contains(named, message);
        }
    }
}
