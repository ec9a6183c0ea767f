using System.Security.Claims;
using Gateway.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Tests.Support;
using Gateway.Management;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Identity;

/// <summary>
/// The management API and the proxy read a token's id claims the same way: claim types match exactly
/// (letter case included), an empty value is a malformed value (never "no claim", so it never falls
/// back to the default tenant or the client id), several different values or a structured JSON value
/// are malformed.
/// </summary>
public sealed class ClaimReaderTests
{
    private static readonly LicensingOptions Options = new() { DefaultTenant = "demo" };

    private static ClaimsPrincipal Principal(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "test"));

    private static IdentityResolution Proxy(ClaimsPrincipal principal)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Device-Id"] = "laptop";
        return new IdentityResolver(new StaticOptionsMonitor<LicensingOptions>(Options)).Resolve(context, principal);
    }

    [Fact]
    public void A_claim_type_in_other_letter_case_is_no_claim_on_either_side()
    {
        var principal = Principal(("TID", "acme"), ("sub", "alice"));

        var management = ManagementCaller.From(principal, Options);
        var proxy = Proxy(principal);

        Assert.True(proxy.Succeeded);
        Assert.Equal("demo", proxy.Identity.Tenant);
        Assert.Equal("demo", management.Tenant);
        Assert.False(management.HasInvalidIdentity);
    }

    [Fact]
    public void An_empty_tenant_claim_is_malformed_on_either_side_and_never_the_default_tenant()
    {
        var principal = Principal(("tid", ""), ("sub", "alice"));

        var management = ManagementCaller.From(principal, Options);
        var proxy = Proxy(principal);

        Assert.Equal(IdentityProblem.Invalid, proxy.Problem);
        Assert.True(management.HasInvalidIdentity);
        Assert.Null(management.Tenant);
    }

    [Fact]
    public void An_empty_user_claim_is_malformed_on_either_side_and_never_the_client_id()
    {
        var principal = Principal(("tid", "acme"), ("sub", ""), ("client_id", "erp-desktop"));

        var management = ManagementCaller.From(principal, Options);
        var proxy = Proxy(principal);

        Assert.Equal(IdentityProblem.Invalid, proxy.Problem);
        Assert.True(management.HasInvalidIdentity);
        Assert.Null(management.User);
    }

    [Fact]
    public void Repeated_equal_values_are_one_value_and_different_values_are_malformed()
    {
        var repeated = Principal(("tid", "acme"), ("tid", "acme"), ("sub", "alice"));
        var different = Principal(("tid", "acme"), ("tid", "globex"), ("sub", "alice"));

        Assert.Equal("acme", ManagementCaller.From(repeated, Options).Tenant);
        Assert.Equal("acme", Proxy(repeated).Identity.Tenant);
        Assert.True(ManagementCaller.From(different, Options).HasInvalidIdentity);
        Assert.Equal(IdentityProblem.Invalid, Proxy(different).Problem);
    }

    [Theory]
    [InlineData("tid", "acme", nameof(ClaimRead.Found), "acme")]
    [InlineData("TID", "acme", nameof(ClaimRead.Missing), "")]
    [InlineData("tid", "", nameof(ClaimRead.Found), "")]
    public void The_reader_matches_types_exactly_and_keeps_empty_values(string type, string value, string expected, string expectedValue)
    {
        var read = IdClaims.Read(Principal((type, value)), "tid", out var found);

        Assert.Equal(expected, read.ToString());
        Assert.Equal(expectedValue, found);
    }

    [Fact]
    public void The_reader_reads_every_identity_of_the_principal()
    {
        var principal = new ClaimsPrincipal(new[]
        {
            new ClaimsIdentity([new Claim("sub", "alice")], "first"),
            new ClaimsIdentity([new Claim("tid", "acme")], "second"),
        });

        Assert.Equal(ClaimRead.Found, IdClaims.Read(principal, "tid", out var tenant));
        Assert.Equal("acme", tenant);
    }

    [Fact]
    public void A_structured_json_value_is_malformed()
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim("tid", "{\"a\":1}", Microsoft.IdentityModel.JsonWebTokens.JsonClaimValueTypes.Json)], "test"));

        Assert.Equal(ClaimRead.Ambiguous, IdClaims.Read(principal, "tid", out _));
        Assert.True(ManagementCaller.From(principal, Options).HasInvalidIdentity);
    }

    [Fact]
    public void Roles_match_the_role_claim_type_exactly_on_the_management_side()
    {
        var exact = Principal(("tid", "acme"), ("sub", "alice"), ("role", "license-admin"));
        var otherCase = Principal(("tid", "acme"), ("sub", "alice"), ("ROLE", "license-admin"));

        Assert.True(ManagementCaller.From(exact, Options).IsAdmin);
        Assert.False(ManagementCaller.From(otherCase, Options).IsAdmin);
    }

    [Theory]
    [InlineData("acme", nameof(TokenIdState.Valid))]
    [InlineData(" acme", nameof(TokenIdState.Malformed))]
    [InlineData("acme ", nameof(TokenIdState.Malformed))]
    [InlineData("", nameof(TokenIdState.Malformed))]
    [InlineData("a/b", nameof(TokenIdState.Malformed))]
    public void A_tenant_value_is_taken_as_it_is_never_trimmed(string value, string expected)
    {
        var principal = Principal(("tid", value), ("sub", "alice"));

        Assert.Equal(expected, IdClaims.ReadTenant(principal, "tid").State.ToString());
        var valid = expected == nameof(TokenIdState.Valid);
        Assert.Equal(!valid, ManagementCaller.From(principal, Options).HasInvalidIdentity);
        Assert.Equal(valid, Proxy(principal).Succeeded);
    }

    [Fact]
    public void Without_a_user_claim_the_client_id_is_the_user_on_either_side()
    {
        var principal = Principal(("tid", "acme"), ("client_id", "erp-batch"));

        var read = IdClaims.ReadUser(principal, "sub", "client_id");
        Assert.Equal(new TokenId(TokenIdState.Valid, "erp-batch", FromClientId: true), read);
        Assert.Equal("erp-batch", ManagementCaller.From(principal, Options).User);
        Assert.Equal("erp-batch", Proxy(principal).Identity.User);
    }

    [Fact]
    public void A_token_without_tenant_claim_takes_the_default_tenant_on_either_side_and_without_user_names_no_user()
    {
        var principal = Principal(("sub", "alice"));
        Assert.Equal(TokenId.Missing, IdClaims.ReadTenant(principal, "tid"));
        Assert.Equal("demo", ManagementCaller.From(principal, Options).Tenant);
        Assert.Equal("demo", Proxy(principal).Identity.Tenant);

        var nobody = Principal(("tid", "acme"));
        Assert.Equal(TokenId.Missing, IdClaims.ReadUser(nobody, "sub", "client_id"));
        Assert.Null(ManagementCaller.From(nobody, Options).User);
        Assert.False(ManagementCaller.From(nobody, Options).HasInvalidIdentity);
        Assert.Equal(IdentityProblem.Incomplete, Proxy(nobody).Problem);
    }
}
