using Gateway.Licensing.Identity;

namespace Gateway.Licensing.Tests.Identity;

public sealed class IdentityRulesTests
{
    [Theory]
    [InlineData("acme", true)]
    [InlineData("A-b_c.9", true)]
    [InlineData("", false)]
    [InlineData("a{b}", false)]
    [InlineData("a:b", false)]
    [InlineData("a b", false)]
    [InlineData("a*", false)]
    [InlineData("é", false)]
    [InlineData("a\nb", false)]
    public void Tenant_ids_match_the_safe_pattern(string tenant, bool valid) =>
        Assert.Equal(valid, IdentityRules.IsValidTenant(tenant));

    [Fact]
    public void Tenant_ids_are_at_most_64_characters()
    {
        Assert.True(IdentityRules.IsValidTenant(new string('a', 64)));
        Assert.False(IdentityRules.IsValidTenant(new string('a', 65)));
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("a b{c}*:?", true)]
    [InlineData("", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\0b", false)]
    [InlineData("a\r\nb", false)]
    [InlineData("ü", false)]
    [InlineData("a\u007f", false)]
    public void User_and_device_ids_are_printable_ascii(string id, bool valid) =>
        Assert.Equal(valid, IdentityRules.IsValidId(id));

    [Fact]
    public void User_and_device_ids_are_at_most_128_characters()
    {
        Assert.True(IdentityRules.IsValidId(new string('x', 128)));
        Assert.False(IdentityRules.IsValidId(new string('x', 129)));
    }
}
